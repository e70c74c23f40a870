import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { get } from '../helpers/http';
import { freePort } from '../helpers/redis-server';
import { spawnService } from '../helpers/service-process';
import { eventually, fakeUpstreamEnv, REDIS_URL, startFakes } from '../helpers/stack';

describe('the service process', () => {
  it('refuses to start without credentials, in one line naming the variable', async () => {
    const service = spawnService({ REDIS_URL });
    expect(await service.exited).toBe(1);
    expect(service.stderr.join('')).toBe('avatar-cdn: GREEN_API_ID_INSTANCE is required (or GREEN_API_INSTANCES)\n');
  });

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const { green, images, prefix, close } = await startFakes();
    try {
      green.set('11000000600@c.us', { kind: 'avatar', url: await images.add('leaving') }, 800);
      const service = spawnService(fakeUpstreamEnv({ green, images }, prefix));
      const url = await service.ready();
      const inFlight = get(url, '/avatar/11000000600.webp');
      await new Promise((resolve) => green.once('call', resolve));
      service.child.kill('SIGTERM');
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(res.headers['x-avatar-status']).toBe('ok');
      expect(await service.exited).toBe(0);
      expect(service.stdout.join('\n')).not.toContain(green.apiToken);
    } finally {
      await close();
    }
  });
});

describe('API_PROCESSES', () => {
  it('runs the API in several processes on one port next to the worker, and stops them all on SIGTERM', async () => {
    const { green, images, prefix, close } = await startFakes();
    try {
      green.set('11000000610@c.us', { kind: 'avatar', url: await images.add('clustered') });
      const service = spawnService({ ...fakeUpstreamEnv({ green, images }, prefix), PORT: String(await freePort()), API_PROCESSES: '2' });
      const started = await service.logLine('avatar-cdn started');
      expect(started.apiProcesses).toBe(2);
      await service.ready();
      const apiPids = () => new Set(service.stdout.filter((l) => l.includes('avatar-cdn api process started')).map((l) => (JSON.parse(l) as { pid: number }).pid));
      await eventually(() => apiPids().size === 2);
      const pids = apiPids();
      const res = await get(started.url as string, '/avatar/11000000610.webp');
      expect(res.headers['x-avatar-status']).toBe('ok');
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      await close();
    }
  });
});

const root = path.resolve(__dirname, '../..');

/** The pids of the processes whose working directory is `dir`. */
const processesIn = (dir: string) =>
  readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`) === dir;
      } catch {
        return false;
      }
    });

/** A started process's output (stdout and stderr), and its exit. */
function watch(child: ReturnType<typeof spawn>) {
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { output: () => text, exited };
}

describe('npm start, start:api and start:worker', () => {
  let fakes: Awaited<ReturnType<typeof startFakes>>;
  beforeAll(async () => {
    fakes = await startFakes();
  });
  afterAll(() => fakes.close());
  const env = (port: string) => ({ PATH: process.env.PATH ?? '', ...fakeUpstreamEnv(fakes, fakes.prefix), LOG_LEVEL: 'info', PORT: port, WORKER_PORT: port });
  const start = (args: string[], port: string) =>
    spawn(process.execPath, [path.join(root, 'scripts/start.mjs'), ...args], { cwd: root, env: env(port), stdio: ['ignore', 'pipe', 'pipe'] });

  it('started together after a source changed, they build once (the other waits for that build) and both run', async () => {
    // A source newer than the build: what an edit leaves (its content unchanged here).
    const now = new Date();
    utimesSync(path.join(root, 'src/server.ts'), now, now);
    const children = [start(['--role', 'api'], String(await freePort())), start(['--role', 'worker'], String(await freePort()))];
    const watched = children.map(watch);
    try {
      await eventually(() => watched.every(({ output }) => output().includes('"msg":"avatar-cdn started"')), 60_000, 100);
      const all = watched.map(({ output }) => output()).join('');
      expect(all.match(/build: compiling TypeScript/g)).toHaveLength(1);
      expect(all.match(/build: already built by a start running alongside/g)).toHaveLength(1);
      for (const child of children) child.kill('SIGTERM');
      expect(await Promise.all(watched.map(({ exited }) => exited))).toEqual([0, 0]);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);

  it('with the build up to date, a start compiles nothing; a lock left by a killed build is taken over at once', async () => {
    mkdirSync(path.join(root, '.build.lock'), { recursive: true });
    // A pid that is not running: the build that held the lock was killed.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(path.join(root, '.build.lock', 'pid'), String(dead));
    const now = new Date();
    utimesSync(path.join(root, 'src/server.ts'), now, now);
    const first = spawn(process.execPath, [path.join(root, 'scripts/start.mjs')], { cwd: root, env: env(String(await freePort())), stdio: ['ignore', 'pipe', 'pipe'] });
    const firstRun = watch(first);
    try {
      await eventually(() => firstRun.output().includes('"msg":"avatar-cdn started"'), 60_000, 100);
      expect(firstRun.output()).toContain(`build: taking over the lock of a build that stopped (pid ${dead})`);
      expect(firstRun.output()).toContain('build: compiling TypeScript');
      first.kill('SIGTERM');
      expect(await firstRun.exited).toBe(0);

      const second = spawn(process.execPath, [path.join(root, 'scripts/start.mjs')], { cwd: root, env: env(String(await freePort())), stdio: ['ignore', 'pipe', 'pipe'] });
      const secondRun = watch(second);
      await eventually(() => secondRun.output().includes('"msg":"avatar-cdn started"'), 30_000, 100);
      expect(secondRun.output()).not.toContain('build:');
      second.kill('SIGTERM');
      expect(await secondRun.exited).toBe(0);
    } finally {
      if (first.exitCode === null) first.kill('SIGKILL');
      rmSync(path.join(root, '.build.lock'), { recursive: true, force: true });
    }
  }, 90_000);

  it('in a production install (npm ci --omit=dev, TypeScript present as an optional peer) npm start runs the build as it is, and SIGTERM to npm\'s pid stops the server', async () => {
    if (!existsSync(path.join(root, 'dist/src/server.js'))) spawnSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: root });
    const dir = mkdtempSync(path.join(tmpdir(), 'avatar-cdn-prod-'));
    try {
      for (const file of ['package.json', 'package-lock.json', 'scripts/start.mjs', 'dist']) cpSync(path.join(root, file), path.join(dir, file), { recursive: true });
      const install = spawnSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8' });
      expect(install.status).toBe(0);
      expect(existsSync(path.join(dir, 'node_modules/@types/node'))).toBe(false);
      const port = String(await freePort());
      const npm = spawn('npm', ['start'], { cwd: dir, env: env(port), stdio: ['ignore', 'pipe', 'pipe'] });
      const run = watch(npm);
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, 30_000, 100);
      expect(run.output()).not.toContain('build:');
      // npm, its shell and the server run in the install's directory.
      expect(processesIn(dir).length).toBeGreaterThan(1);
      npm.kill('SIGTERM');
      await run.exited;
      // The server itself stops too (npm does not pass the signal on; the start script notices npm is gone).
      await eventually(() => processesIn(dir).length === 0, 15_000, 100);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
