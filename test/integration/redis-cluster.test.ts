import request from 'supertest';
import { OwnRedisCluster } from '../helpers/redis-cluster';
import { hasRedisServer } from '../helpers/redis-server';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';

const ADMIN = 'admin-token-0123456789abcdef';
const describeWithRedis = hasRedisServer ? describe : describe.skip;
if (!hasRedisServer) console.warn('Redis Cluster test skipped: redis-server is not installed');

describeWithRedis('on a real 3-master Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  const cluster = new OwnRedisCluster();
  let stack: Stack;

  beforeAll(async () => {
    await cluster.start();
    // No in-process cache, so every hit is read from the cluster.
    stack = await startStack({ env: { REDIS_CLUSTER_NODES: cluster.nodes, ADMIN_TOKEN: ADMIN, MEMORY_CACHE_MB: '0', MISS_RATE_PER_MIN: '0' } });
    stack.green.set('11013000001@c.us', { kind: 'avatar', url: await stack.images.add('clustered') });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await cluster.stop();
  });

  it('runs the core flow: miss, worker, hit, 304, another variant, placeholder', async () => {
    const miss = await get(stack.url, '/avatar/11013000001.webp');
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(miss.headers['x-avatar-status']).toBe('ok');
    const hit = await get(stack.url, '/avatar/11013000001.webp');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(Buffer.compare(hit.body as Buffer, miss.body as Buffer)).toBe(0);
    expect((await get(stack.url, '/avatar/11013000001.webp', { 'If-None-Match': miss.headers['etag']! })).status).toBe(304);
    expect((await get(stack.url, '/avatar/11013000001.png?size=64')).headers['x-avatar-status']).toBe('ok');
    expect((await get(stack.url, '/avatar/11013000002.webp')).headers['x-avatar-status']).toBe('not-on-whatsapp');
    expect(stack.green.callsFor('11013000001@c.us')).toBe(1);
    expect((await request(stack.url).get('/readyz')).status).toBe(200);
  });

  it('completes a warm batch', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => String(11013100000 + i));
    const started = await request(stack.url).post('/v1/warm').set('Authorization', `Bearer ${ADMIN}`).send({ chatIds: ids });
    expect(started.status).toBe(202);
    const status = async () => (await request(stack.url).get(`/v1/warm/${started.body.batchId}`).set('Authorization', `Bearer ${ADMIN}`)).body;
    await eventually(async () => (await status()).pending === 0, 20_000, 100);
    expect(await status()).toMatchObject({ total: 100, done: 100, notOnWhatsapp: 100, failed: 0 });
  });

  it('keeps each queue in one slot (hash-tagged prefix) and spreads the cache over the masters', async () => {
    const client = cluster.client();
    try {
      await new Promise((resolve) => client.once('ready', resolve));
      const keysPerNode = await Promise.all(client.nodes('master').map((node) => node.keys(`*${stack.config.redis.keyPrefix}*`)));
      const queueNodes = keysPerNode.filter((keys) => keys.some((k) => k.startsWith(`{${stack.config.redis.keyPrefix}}:resolve:`)));
      expect(queueNodes).toHaveLength(1);
      expect(keysPerNode.filter((keys) => keys.some((k) => k.includes(':meta:'))).length).toBeGreaterThan(1);
    } finally {
      client.disconnect();
    }
  });
});
