import request from 'supertest';
import { deletePrefix, startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';
import { Redis } from 'ioredis';

/** The value of one sample in Prometheus text, or 0. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('metrics and logs', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { LOG_LEVEL: 'info' } });
    stack.green.set('11006000001@c.us', { kind: 'avatar', url: await stack.images.add('measured') });
  });
  afterAll(() => stack.close());

  it('/metrics counts lookups, GetAvatar calls, downloads, renders, latency and queues', async () => {
    await get(stack.url, '/avatar/11006000001.webp');
    await get(stack.url, '/avatar/11006000001.webp');
    await get(stack.url, '/avatar/11006000001.avif?size=64');
    await get(stack.url, '/avatar/11006000002.webp');
    const res = await request(stack.url).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.text;
    expect(sample(text, 'avatar_cache_lookups_total', 'result="miss"')).toBe(3);
    expect(sample(text, 'avatar_cache_lookups_total', 'result="hit"')).toBe(1);
    expect(sample(text, 'avatar_greenapi_calls_total', 'outcome="avatar"')).toBe(1);
    expect(sample(text, 'avatar_greenapi_calls_total', 'outcome="not-on-whatsapp"')).toBe(1);
    expect(sample(text, 'avatar_source_downloads_total', 'outcome="ok"')).toBe(1);
    expect(sample(text, 'avatar_source_download_bytes_total')).toBeGreaterThan(1000);
    expect(sample(text, 'avatar_render_duration_seconds_count', 'format="avif"')).toBe(1);
    expect(sample(text, 'avatar_http_request_duration_seconds_count', 'route="/avatar/:file",status="200",cache="HIT"')).toBe(1);
    expect(text).toContain('avatar_queue_jobs{queue="resolve",state="waiting"}');
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).not.toContain(stack.green.apiToken);
    expect(text).not.toContain('11006000001');
  });

  it('logs one line per GetAvatar call, a request id on request lines, and nothing for hits', async () => {
    const before = stack.logs.length;
    await get(stack.url, '/avatar/11006000001.webp', { 'X-Request-Id': 'hit-req-1' });
    const miss = await get(stack.url, '/avatar/11006000003.webp', { 'X-Request-Id': 'miss-req-1' });
    expect(miss.headers['x-request-id']).toBe('miss-req-1');
    const lines = stack.logs.slice(before);
    const requestId = (l: Record<string, unknown>) => (l.req as { id?: string } | undefined)?.id;
    expect(lines.filter((l) => requestId(l) === 'hit-req-1')).toHaveLength(0);
    expect(lines.filter((l) => requestId(l) === 'miss-req-1')).toEqual([expect.objectContaining({ msg: 'request completed' })]);
    const calls = lines.filter((l) => l.msg === 'GetAvatar');
    expect(calls).toEqual([expect.objectContaining({ chatId: '11006000003@c.us', outcome: 'not-on-whatsapp', ms: expect.any(Number) })]);
  });
});

describe('a worker-only process', () => {
  it('serves /healthz and /metrics', async () => {
    const stack = await startStack({ role: 'worker' });
    try {
      expect((await request(stack.url).get('/healthz')).status).toBe(200);
      expect((await request(stack.url).get('/metrics')).text).toContain('avatar_greenapi_calls_total');
      expect((await request(stack.url).get('/avatar/11001234567.webp')).status).toBe(404);
    } finally {
      await stack.close();
    }
  });
});

describe('cache and queue on two Redis databases (REDIS_URL, QUEUE_REDIS_URL)', () => {
  it('keeps answers and images in the cache database and jobs in the queue database', async () => {
    const stack = await startStack({ env: { REDIS_URL: 'redis://127.0.0.1:6379/3', QUEUE_REDIS_URL: 'redis://127.0.0.1:6379/4' } });
    const queueDb = new Redis('redis://127.0.0.1:6379/4');
    const cacheDb = new Redis('redis://127.0.0.1:6379/3');
    const prefix = stack.config.redis.keyPrefix;
    try {
      stack.green.set('11006100001@c.us', { kind: 'avatar', url: await stack.images.add('split') }, 300);
      expect((await get(stack.url, '/avatar/11006100001.webp')).headers['x-avatar-status']).toBe('ok');
      const cacheKeys = await cacheDb.keys(`${prefix}:*`);
      const queueKeys = await queueDb.keys(`${prefix}:*`);
      expect(cacheKeys.some((k) => k.includes(':meta:'))).toBe(true);
      expect(cacheKeys.some((k) => k.includes(':img:'))).toBe(true);
      expect(cacheKeys.some((k) => k.startsWith(`${prefix}:resolve:`))).toBe(false);
      expect(queueKeys.some((k) => k.startsWith(`${prefix}:resolve:`))).toBe(true);
      expect(queueKeys.some((k) => k.includes(':meta:') || k.includes(':img:'))).toBe(false);
    } finally {
      await stack.close();
      await Promise.all([deletePrefix(queueDb, prefix), deletePrefix(cacheDb, prefix)]);
      await Promise.all([queueDb.quit(), cacheDb.quit()]);
    }
  });
});

