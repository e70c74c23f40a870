import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { startRuntime, type Role } from './runtime';

/** Entry point: `node dist/src/server.js [--role all|api|worker]`. */
function parseRole(argv: string[]): Role {
  const i = argv.indexOf('--role');
  const role = i >= 0 ? argv[i + 1] : 'all';
  if (role === 'all' || role === 'api' || role === 'worker') return role;
  throw new ConfigError(`--role must be all, api or worker (got ${role ?? 'nothing'})`);
}

async function main(): Promise<void> {
  let config;
  let role: Role;
  try {
    config = loadConfig(process.env);
    role = parseRole(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`avatar-cdn: ${err.message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  const runtime = await startRuntime(config, role, logger);
  logger.info({ role, url: runtime.url }, 'avatar-cdn started');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    runtime.close().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
