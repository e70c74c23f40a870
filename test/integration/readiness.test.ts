import request from 'supertest';
import { freePort, hasRedisServer, OwnRedis } from '../helpers/redis-server';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { get, readyz } from '../helpers/http';

/** /readyz's details are the admin's on the public port. */
const READYZ_ADMIN = 'admin-token-0123456789abcdef';

const describeWithRedis = hasRedisServer ? describe : describe.skip;
if (!hasRedisServer) console.warn('readiness tests skipped: redis-server is not installed');

describeWithRedis('health and readiness against a Redis that goes away', () => {
  let redis: OwnRedis;
  let stack: Stack;

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    stack = await startStack({ env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '300', ADMIN_TOKEN: READYZ_ADMIN } });
    stack.green.set('11000000500@c.us', { kind: 'avatar', url: await stack.images.add('kept') });
  });
  afterAll(async () => {
    await redis.start();
    await stack.close();
    await redis.stop();
  });

  it('is healthy and ready while Redis answers', async () => {
    expect((await request(stack.url).get('/healthz')).status).toBe(200);
    const ready = await readyz(stack.url, READYZ_ADMIN);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', redis: 'ok', queue: 'ok', storage: 'ok', upstream: 'ok', instances: { [stack.green.idInstance]: 'ok' } });
  });

  it('says 503 and which part failed when Redis is down, serves placeholders, and recovers with no restart', async () => {
    const warm = await get(stack.url, '/avatar/11000000500.webp');
    expect(warm.headers['x-avatar-status']).toBe('ok');
    await get(stack.url, '/avatar/11000000500.webp');
    await redis.stop();

    const ready = await readyz(stack.url, READYZ_ADMIN);
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('unavailable');
    expect(ready.body.redis).toMatch(/^unreachable \(/);
    expect(ready.body.queue).toMatch(/^unreachable \(/);
    expect((await request(stack.url).get('/healthz')).status).toBe(200);

    // Memory is a copy that serves only while news of changes can arrive: with Redis gone it serves nothing
    // (browsers and CDNs keep their own copies for max-age), rather than a picture that may have changed.
    const remembered = await get(stack.url, '/avatar/11000000500.webp');
    expect(remembered.status).toBe(200);
    expect(remembered.headers['x-avatar-status']).toBe('error');
    expect(remembered.headers['cache-control']).toBe('no-store');

    const cold = await get(stack.url, '/avatar/11000000501.webp', { 'X-Request-Id': 'redis-down-1' });
    expect(cold.status).toBe(200);
    // The failure is logged once, on a line that carries the request's id.
    expect(stack.logs.filter((l) => l.msg === 'avatar lookup failed' && (l.req as { id?: string } | undefined)?.id === 'redis-down-1')).toHaveLength(1);
    expect(cold.headers['x-avatar-status']).toBe('error');
    expect(cold.headers['cache-control']).toBe('no-store');

    await redis.start();
    await eventually(async () => (await request(stack.url).get('/readyz')).status === 200, 10_000, 100);
    await eventually(async () => (await get(stack.url, '/avatar/11000000500.webp?size=64')).headers['x-avatar-status'] === 'ok', 10_000, 100);
    // The picture is served again, with the ETag it had (from Redis, then from memory again).
    expect((await get(stack.url, '/avatar/11000000500.webp')).headers['etag']).toBe(warm.headers['etag']);
  });
});
