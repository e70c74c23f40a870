import request from 'supertest';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startRuntime } from '../../src/runtime';
import { deletePrefix, eventually, fakeUpstreamEnv, startFakes, startStack, type Stack } from '../helpers/stack';
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
      expect(cacheKeys.some((k) => k.includes(':info:'))).toBe(true);
      expect(cacheKeys.some((k) => k.startsWith(`${prefix}:resolve:`))).toBe(false);
      expect(queueKeys.some((k) => k.startsWith(`${prefix}:resolve:`))).toBe(true);
      expect(queueKeys.some((k) => k.includes(':meta:') || k.includes(':src:'))).toBe(false);
    } finally {
      await stack.close();
      await Promise.all([deletePrefix(queueDb, prefix), deletePrefix(cacheDb, prefix)]);
      await Promise.all([queueDb.quit(), cacheDb.quit()]);
    }
  });
});


describe('failed jobs', () => {
  it('are kept for inspection and counted, while a request after FAILURE_BACKOFF_SECONDS makes a new call', async () => {
    const stack = await startStack({ env: { JOB_ATTEMPTS: '1', FAILURE_BACKOFF_SECONDS: '1', ADMIN_TOKEN: 'admin-token-0123456789abcdef' } });
    try {
      stack.green.set('11006200001@c.us', { kind: 'http', status: 500 });
      expect((await get(stack.url, '/avatar/11006200001.webp')).headers['x-avatar-status']).toMatch(/^(pending|error)$/);
      await eventually(async () => sample((await request(stack.url).get('/metrics')).text, 'avatar_queue_jobs', 'queue="resolve",state="failed"') === 1, 5000);
      const dashboard = await request(stack.url)
        .get('/admin/queues/api/queues?activeQueue=resolve&status=failed')
        .set('Authorization', 'Bearer admin-token-0123456789abcdef');
      expect(dashboard.headers['x-powered-by']).toBeUndefined();
      const resolveQueue = (dashboard.body.queues as { name: string; jobs: { data: { chatId: string }; failedReason: string }[] }[]).find((q) => q.name === 'resolve')!;
      // The attempt was made in the serving process (npm start); its failure is kept as a failed job all the same.
      expect(resolveQueue.jobs).toEqual([expect.objectContaining({ data: expect.objectContaining({ chatId: '11006200001@c.us' }), failedReason: 'GetAvatar upstream error (HTTP 500)' })]);
      expect((dashboard.body.queues as { name: string }[]).map((q) => q.name)).toEqual(expect.arrayContaining(['resolve', 'render', 'maintenance']));

      // Within the back-off: no new call. After it: a new resolve, although the failed job is still kept.
      expect((await get(stack.url, '/avatar/11006200001.webp')).headers['x-avatar-status']).toBe('error');
      expect(stack.green.callsFor('11006200001@c.us')).toBe(1);
      stack.green.set('11006200001@c.us', { kind: 'no-avatar' });
      await eventually(async () => (await get(stack.url, '/avatar/11006200001.webp')).headers['x-avatar-status'] === 'no-avatar', 5000, 200);
      expect(stack.green.callsFor('11006200001@c.us')).toBe(2);
      expect(sample((await request(stack.url).get('/metrics')).text, 'avatar_queue_jobs', 'queue="resolve",state="failed"')).toBe(1);
    } finally {
      await stack.close();
    }
  });
});

describe('operator-facing headers and endpoints', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { DEMO_PAGE: 'true', DEMO_CONTACTS: '11001234567' } });
  });
  afterAll(() => stack.close());

  it('never lets a shared cache keep health, readiness or metrics; the demo page is revalidated', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await request(stack.url).get(path)).headers['cache-control']).toBe('no-store');
    expect((await request(stack.url).get('/')).headers['cache-control']).toBe('no-cache');
  });

  it('echoes X-Request-Id on every response, fast-path hits included', async () => {
    stack.green.set('11006300001@c.us', { kind: 'no-avatar' });
    await get(stack.url, '/avatar/11006300001.webp');
    const hit = await get(stack.url, '/avatar/11006300001.webp', { 'X-Request-Id': 'hit-42' });
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['x-request-id']).toBe('hit-42');
    expect((await get(stack.url, '/avatar/11006300001.webp')).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect((await request(stack.url).get('/healthz').set('X-Request-Id', 'health-1')).headers['x-request-id']).toBe('health-1');
  });

  it('counts placeholders by status, hits included', async () => {
    stack.green.set('11006300002@c.us', { kind: 'not-on-whatsapp' });
    for (let i = 0; i < 3; i++) await get(stack.url, '/avatar/11006300002.webp');
    const text = (await request(stack.url).get('/metrics')).text;
    expect(sample(text, 'avatar_placeholders_total', 'status="not-on-whatsapp"')).toBe(3);
  });
});

describe('METRICS_PORT', () => {
  it('serves /metrics and a detailed /readyz on a port of its own, /metrics no longer on the public one', async () => {
    const fakes = await startFakes();
    const runtime = await startRuntime(loadConfig({ ...fakeUpstreamEnv(fakes, fakes.prefix), METRICS_PORT: '0', LOG_LEVEL: 'silent' }), 'all', createLogger('silent'));
    try {
      await runtime.ready;
      expect(runtime.metricsUrl).toBeDefined();
      const metrics = await request(runtime.metricsUrl!).get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toContain('avatar_cache_lookups_total');
      expect((await request(runtime.url).get('/metrics')).status).toBe(404);
      expect((await request(runtime.metricsUrl!).get('/avatar/11001234567.webp')).status).toBe(404);
      // /readyz: its details on the internal port, only ready-or-not on the public one.
      expect((await request(runtime.metricsUrl!).get('/readyz')).body).toMatchObject({ status: 'ok', redis: 'ok', queue: 'ok', instances: { [fakes.green.idInstance]: 'ok' } });
      expect((await request(runtime.url).get('/readyz')).body).toEqual({ status: 'ok' });
    } finally {
      await runtime.close();
      await fakes.close();
    }
  });
});
