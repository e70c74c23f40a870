// First: sizes libuv's threadpool before anything starts it.
import './threadpool-size';
import cluster from 'node:cluster';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';
import { StorageUnusableError } from './storage/blob-store';
import { PortInUseError, startRuntime, type Role, type Runtime } from './runtime';

/**
 * Entry point: `node dist/src/server.js [--role all|api|worker]`.
 * With API_PROCESSES > 1 the API runs in that many cluster processes sharing the port; the primary keeps
 * the worker role (for `all`) and hands SIGTERM on to them.
 */
function parseRole(argv: string[]): Role {
  const i = argv.indexOf('--role');
  const role = i >= 0 ? argv[i + 1] : 'all';
  if (role === 'all' || role === 'api' || role === 'worker') return role;
  throw new ConfigError(`--role must be all, api or worker (got ${role ?? 'nothing'})`);
}

/** Beyond SHUTDOWN_TIMEOUT_MS, this long for closing connections; then the process exits regardless. */
const SHUTDOWN_MARGIN_MS = 3000;

/**
 * SIGTERM/SIGINT: a bounded, graceful stop, exit 0 (whether Redis answers or not). A second signal exits at
 * once.
 */
function onSignal(stop: (signal: string) => Promise<void>, logger: Logger, shutdownTimeoutMs: number): void {
  let stopping = false;
  const handle = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(0);
    }
    stopping = true;
    logger.info({ signal, timeoutMs: shutdownTimeoutMs }, 'shutting down');
    setTimeout(() => {
      logger.warn({ timeoutMs: shutdownTimeoutMs + SHUTDOWN_MARGIN_MS }, 'shutdown took too long: exiting now');
      process.exit(0);
    }, shutdownTimeoutMs + SHUTDOWN_MARGIN_MS).unref();
    stop(signal).then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handle('SIGTERM'));
  process.on('SIGINT', () => handle('SIGINT'));
}

/** Forks the API processes and waits for them to be listening. */
async function forkApiProcesses(count: number): Promise<() => Promise<void>> {
  const children = Array.from({ length: count }, () => cluster.fork());
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('listening', resolve))));
  return async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.isDead()) return resolve();
            child.once('exit', () => resolve());
            child.process.kill('SIGTERM');
          }),
      ),
    );
  };
}

async function run(config: Config, role: Role, logger: Logger): Promise<void> {
  if (cluster.isWorker) {
    const runtime = await startRuntime(config, 'api', logger);
    logger.info({ role: 'api', pid: process.pid, url: runtime.url }, 'avatar-cdn api process started');
    onSignal(() => runtime.close(), logger, config.shutdownTimeoutMs);
    return;
  }
  const clustered = role !== 'worker' && config.apiProcesses > 1;
  const stopApis = clustered ? await forkApiProcesses(config.apiProcesses) : undefined;
  const ownRole: Role | undefined = clustered ? (role === 'all' ? 'worker' : undefined) : role;
  const runtime: Runtime | undefined = ownRole ? await startRuntime(config, ownRole, logger) : undefined;
  const url = clustered ? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}` : runtime?.url;
  logger.info({ role, apiProcesses: clustered ? config.apiProcesses : 1, url }, 'avatar-cdn started');
  onSignal(
    async () => {
      await stopApis?.();
      await runtime?.close();
    },
    logger,
    config.shutdownTimeoutMs,
  );
}

async function main(): Promise<void> {
  let config: Config;
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
  // Whatever fails, stdout stays JSON lines: one line, then exit.
  const fatal = (err: unknown, msg: string) => {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, msg);
    process.exit(1);
  };
  process.on('uncaughtException', (err) => fatal(err, 'uncaught exception'));
  process.on('unhandledRejection', (err) => fatal(err, 'unhandled rejection'));
  try {
    await run(config, role, logger);
  } catch (err) {
    if (err instanceof PortInUseError) {
      logger.fatal({ port: err.port }, err.message);
      process.exit(1);
    }
    if (err instanceof StorageUnusableError) {
      logger.fatal(err.message);
      process.exit(1);
    }
    fatal(err, 'could not start');
  }
}

void main();
