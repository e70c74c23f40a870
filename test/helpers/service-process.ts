import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');


export interface ServiceProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves with the first log line matching `msg` (already written, or to come). */
  logLine(msg: string): Promise<Record<string, unknown>>;
  /**
   * The service's URL once it is started and its /readyz says 200. The port opens before Redis answers;
   * like an orchestrator, tests send traffic only after that.
   */
  ready(): Promise<string>;
}

/**
 * Runs the real entry point as one node process, so a signal reaches the service itself: src/server.ts with
 * tsx as a loader, or with `built` the compiled dist/src/server.js that `npm start` runs.
 */
export function spawnService(env: Record<string, string>, args: string[] = [], { built = false } = {}): ServiceProcess {
  const entry = built ? [path.join(ROOT, 'dist/src/server.js')] : ['--import', 'tsx', path.join(ROOT, 'src/server.ts')];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { msg: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  const seen: Record<string, unknown>[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      stdout.push(line);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      seen.push(parsed);
      for (const w of waiters.filter((w) => w.msg === parsed.msg)) w.resolve(parsed);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logLine = (msg: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const earlier = seen.find((line) => line.msg === msg);
      if (earlier) return resolve(earlier);
      waiters.push({ msg, resolve });
      void exited.then((code) => reject(new Error(`service exited (${code}) before logging "${msg}": ${stderr.join('')}`)));
    });
  return {
    child,
    stdout,
    stderr,
    exited,
    logLine,
    async ready() {
      const url = (await logLine('avatar-cdn started')).url as string;
      const deadline = Date.now() + 15_000;
      while ((await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) !== 200) {
        if (Date.now() > deadline) throw new Error(`${url}/readyz not 200 after 15 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return url;
    },
  };
}
