import { createServer, type Server } from 'node:net';
import { fakeUpstreamEnv, startFakes, eventually, type Fakes } from '../helpers/stack';
import { freePort, hasRedisServer, OwnRedis } from '../helpers/redis-server';
import { spawnService, type ServiceProcess } from '../helpers/service-process';

const describeWithRedis = hasRedisServer ? describe : describe.skip;
if (!hasRedisServer) console.warn('lifecycle tests skipped: redis-server is not installed');

/** Every line the process wrote, on stdout and stderr, is one pino JSON object. */
function expectOnlyJsonLines(service: ServiceProcess): Record<string, unknown>[] {
  const lines = [...service.stdout, ...service.stderr.join('').split('\n')].filter((l) => l.trim() !== '');
  const parsed = lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`not a JSON line: ${line.slice(0, 200)}`);
    }
  });
  for (const line of parsed) expect(line).toEqual(expect.objectContaining({ level: expect.any(Number), msg: expect.any(String) }));
  return parsed;
}

async function fetchWithin(url: string, ms: number): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(ms) });
}

async function exitWithin(service: ServiceProcess, ms: number): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const code = await Promise.race([service.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms))]);
  if (code === 'timeout') {
    service.child.kill('SIGKILL');
    throw new Error(`still running ${ms} ms after the signal`);
  }
  return { code, ms: Date.now() - started };
}

describeWithRedis('starting and stopping around Redis outages', () => {
  let fakes: Fakes;
  const services: ServiceProcess[] = [];
  const redises: OwnRedis[] = [];
  beforeAll(async () => {
    fakes = await startFakes();
  });
  afterEach(async () => {
    for (const s of services.splice(0)) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    for (const r of redises.splice(0)) await r.stop();
  });
  afterAll(() => fakes.close());

  async function service(env: Record<string, string>, args: string[] = []): Promise<{ s: ServiceProcess; url: string }> {
    const s = spawnService({ ...fakeUpstreamEnv(fakes, fakes.prefix), LOG_LEVEL: 'info', ...env }, args);
    services.push(s);
    const line = await s.logLine('avatar-cdn started');
    return { s, url: line.url as string };
  }

  /** The port opens before Redis answers: traffic is for after /readyz says 200, as an orchestrator would wait. */
  async function untilReady(url: string): Promise<void> {
    await eventually(async () => (await fetchWithin(`${url}/readyz`, 2000)).status === 200, 15_000, 50);
  }

  async function ownRedis(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    redises.push(redis);
    return redis;
  }

  it('opens its port without Redis, says why it is not ready, serves error placeholders, and works once Redis appears', async () => {
    const redis = await ownRedis();
    const port = await freePort();
    const admin = 'admin-token-0123456789abcdef';
    const { s, url } = await service({ REDIS_URL: redis.url, PORT: String(port), REDIS_COMMAND_TIMEOUT_MS: '500', ADMIN_TOKEN: admin });
    expect(url).toBe(`http://127.0.0.1:${port}`);

    expect((await fetchWithin(`${url}/healthz`, 2000)).status).toBe(200);
    // The public port says ready or not; which part failed and why, to the admin.
    const ready = await fetchWithin(`${url}/readyz`, 2000);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable' });
    const detailed = await fetch(`${url}/readyz`, { headers: { Authorization: `Bearer ${admin}` }, signal: AbortSignal.timeout(2000) });
    expect(await detailed.json()).toMatchObject({ status: 'unavailable', redis: 'unreachable (connection refused)', queue: 'unreachable (connection refused)' });
    const avatar = await fetchWithin(`${url}/avatar/11000096001.webp`, 500 + 1500);
    expect(avatar.status).toBe(200);
    expect(avatar.headers.get('x-avatar-status')).toBe('error');
    expect(avatar.headers.get('cache-control')).toBe('no-store');

    fakes.green.set('11000096002@c.us', { kind: 'avatar', url: await fakes.images.add('after-outage') });
    await redis.start();
    await eventually(async () => (await fetchWithin(`${url}/readyz`, 2000)).status === 200, 15_000, 100);
    await eventually(async () => (await fetchWithin(`${url}/avatar/11000096002.webp`, 5000)).headers.get('x-avatar-status') === 'ok', 15_000, 200);

    s.child.kill('SIGTERM');
    expect((await exitWithin(s, 15_000)).code).toBe(0);
    const lines = expectOnlyJsonLines(s);
    // An outage is one line for the process when it starts (at most one more per 30 s), not one per connection
    // or per retry; and one when it ends.
    expect(lines.filter((l) => l.msg === 'redis: unreachable (connection refused)')).toHaveLength(1);
    expect(lines.filter((l) => /still unreachable/.test(String(l.msg))).length).toBeLessThanOrEqual(1);
    expect(lines.filter((l) => l.msg === 'redis: connected again')).toHaveLength(1);
  }, 60_000);

  it('exits 0 within SHUTDOWN_TIMEOUT_MS after SIGTERM while Redis is down', async () => {
    const redis = await ownRedis();
    await redis.start();
    const { s, url } = await service({ REDIS_URL: redis.url, SHUTDOWN_TIMEOUT_MS: '2000' });
    await untilReady(url);
    expect((await fetchWithin(`${url}/avatar/11000096101.webp`, 5000)).status).toBe(200);
    await redis.stop();
    await eventually(async () => (await fetchWithin(`${url}/readyz`, 2000)).status === 503, 5000, 100);
    s.child.kill('SIGTERM');
    const { code, ms } = await exitWithin(s, 2000 + 8000);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2000 + 5000);
    const lines = expectOnlyJsonLines(s);
    // No job could run without Redis: the workers are closed at once, not after SHUTDOWN_TIMEOUT_MS.
    expect(lines.some((l) => /Redis is unreachable, so no job can finish/.test(String(l.msg)))).toBe(true);
    expect(lines.some((l) => /jobs still running/.test(String(l.msg)))).toBe(false);
    // A failing /readyz is the outage log's line, not an error with a stack per probe.
    expect(lines.filter((l) => JSON.stringify(l.req ?? '').includes('/readyz'))).toHaveLength(0);
  }, 60_000);

  it('does not wait for a slow job longer than SHUTDOWN_TIMEOUT_MS, and a second signal exits at once', async () => {
    fakes.green.set('11000096201@c.us', { kind: 'no-avatar' }, 60_000);
    fakes.green.set('11000096202@c.us', { kind: 'no-avatar' }, 60_000);
    const env = { GREEN_API_TIMEOUT_MS: '90000', MISS_WAIT_MS: '100' };

    const bounded = await service({ ...env, SHUTDOWN_TIMEOUT_MS: '1500' });
    await untilReady(bounded.url);
    await fetchWithin(`${bounded.url}/avatar/11000096201.webp`, 5000);
    await eventually(() => fakes.green.callsFor('11000096201@c.us') === 1, 5000);
    bounded.s.child.kill('SIGTERM');
    const first = await exitWithin(bounded.s, 1500 + 8000);
    expect(first.code).toBe(0);
    expect(first.ms).toBeLessThan(1500 + 5000);
    const lines = expectOnlyJsonLines(bounded.s);
    expect(lines.some((l) => /closing anyway/.test(String(l.msg)))).toBe(true);

    const patient = await service({ ...env, SHUTDOWN_TIMEOUT_MS: '60000' });
    await untilReady(patient.url);
    await fetchWithin(`${patient.url}/avatar/11000096202.webp`, 5000);
    await eventually(() => fakes.green.callsFor('11000096202@c.us') === 1, 5000);
    patient.s.child.kill('SIGTERM');
    await patient.s.logLine('shutting down');
    patient.s.child.kill('SIGTERM');
    const second = await exitWithin(patient.s, 5000);
    expect(second.code).toBe(0);
    expectOnlyJsonLines(patient.s);
  }, 60_000);

  it('a taken port is one JSON line naming it, and exit code 1', async () => {
    const blocker: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', resolve));
    try {
      const s = spawnService({ ...fakeUpstreamEnv(fakes, fakes.prefix), LOG_LEVEL: 'info', HOST: '0.0.0.0', PORT: String(port) });
      services.push(s);
      expect((await exitWithin(s, 15_000)).code).toBe(1);
      const lines = expectOnlyJsonLines(s);
      expect(lines.filter((l) => l.msg === `port ${port} is already in use`)).toEqual([expect.objectContaining({ level: 60, port })]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 30_000);

  it('a worker-only process answers /readyz: 503 naming Redis while it is unreachable, 200 once it answers', async () => {
    const redis = await ownRedis();
    const port = await freePort();
    const { s, url } = await service({ REDIS_URL: redis.url, WORKER_PORT: String(port) }, ['--role', 'worker']);
    expect((await fetchWithin(`${url}/healthz`, 2000)).status).toBe(200);
    const down = await fetchWithin(`${url}/readyz`, 3000);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ redis: 'unreachable (connection refused)' });
    expect(down.headers.get('cache-control')).toBe('no-store');
    await redis.start();
    await eventually(async () => (await fetchWithin(`${url}/readyz`, 2000)).status === 200, 15_000, 100);
    s.child.kill('SIGTERM');
    expect((await exitWithin(s, 15_000)).code).toBe(0);
    expectOnlyJsonLines(s);
  }, 60_000);
});
