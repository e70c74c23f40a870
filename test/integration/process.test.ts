import { spawn } from 'node:child_process';
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

describe('npm start, start:api and start:worker', () => {
  it('started together, they build once (the other waits for that build) and both run', async () => {
    const { green, images, prefix, close } = await startFakes();
    const root = path.resolve(__dirname, '../..');
    const start = (args: string[], port: string) =>
      spawn(process.execPath, [path.join(root, 'scripts/start.mjs'), ...args], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', ...fakeUpstreamEnv({ green, images }, prefix), LOG_LEVEL: 'info', PORT: port, WORKER_PORT: port },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const children = [start(['--role', 'api'], String(await freePort())), start(['--role', 'worker'], String(await freePort()))];
    const outputs = children.map((child) => {
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      return () => text;
    });
    try {
      await eventually(() => outputs.every((text) => text().includes('"msg":"avatar-cdn started"')), 60_000, 100);
      const all = outputs.map((text) => text()).join('');
      expect(all.match(/build: compiling TypeScript/g)).toHaveLength(1);
      expect(all.match(/build: already built by a start running alongside/g)).toHaveLength(1);
      const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
      for (const child of children) child.kill('SIGTERM');
      expect(await Promise.all(exits)).toEqual([0, 0]);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await close();
    }
  }, 90_000);
});
