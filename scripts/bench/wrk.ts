/**
 * HTTP load with wrk (C): a Node load generator would take one of the two cores it measures. One wrk thread,
 * `connections` connections, `seconds` long; with `paths`, each request picks one at random (a Lua script reads
 * them from a file), as traffic over many avatars would.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** What one load run measured: the shape every row of the bench reads. */
export interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
}

export interface LoadOptions {
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
  /** Paths to pick from at random, each request (else the URL's own). */
  paths?: string[];
}

/** wrk on PATH, installed from Debian's package when it is missing and this is root; else the command that does. */
export function ensureWrk(): void {
  if (spawnSync('wrk', ['--version']).error === undefined) return;
  if (process.getuid?.() === 0) {
    process.stderr.write('bench: installing wrk (Debian package)\n');
    execFileSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return;
  }
  throw new Error('bench: wrk is not installed; install it with: sudo apt-get install -y wrk');
}

const RANDOM_PATHS = `
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
math.randomseed(os.time())
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
`;

/** "1.23ms", "456.00us", "1.02s" -> ms. */
function ms(text: string): number {
  const [, value, unit] = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim())!;
  const factor = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit as 'us' | 'ms' | 's' | 'm'];
  return Number(value) * factor;
}

/**
 * Runs wrk without blocking this process: its timers (the HTTP client's idle-connection expiry among them) keep
 * running, so a fetch after a load never picks a keep-alive socket the server closed meanwhile.
 */
export async function wrkLoad(url: string, { connections, seconds, headers = {}, paths }: LoadOptions): Promise<LoadResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  const env = { ...process.env };
  if (paths) {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-wrk-'));
    writeFileSync(path.join(dir, 'paths.txt'), `${paths.join('\n')}\n`);
    writeFileSync(path.join(dir, 'random.lua'), RANDOM_PATHS);
    args.push('-s', path.join(dir, 'random.lua'));
    env.WRK_PATHS = path.join(dir, 'paths.txt');
  }
  const { stdout: out } = await promisify(execFile)('wrk', [...args, url], { env, encoding: 'utf8' });
  const total = Number(/(\d+) requests in/.exec(out)![1]);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (errors) throw new Error(`bench: ${errors[1]} of ${total} answers to ${url} were not 2xx/3xx`);
  return {
    requests: { average: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]), total },
    latency: { p50: ms(/ 50%\s+(\S+)/.exec(out)![1]!), p99: ms(/ 99%\s+(\S+)/.exec(out)![1]!) },
  };
}
