import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import request from 'supertest';
import { PRIORITY } from '../../src/queue/jobs';
import { get } from '../helpers/http';
import { eventually, ManualClock, REDIS_URL, startStack, type Stack } from '../helpers/stack';

const ADMIN = 'admin-token-0123456789abcdef';

/** Resolve jobs waiting at each priority (interactive page views, admin refreshes, warm work). */
async function waiting(stack: Stack): Promise<Record<number, number>> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('resolve', { connection, prefix: stack.config.redis.queuePrefix });
  try {
    return await queue.getCountsPerPriority([PRIORITY.interactive, PRIORITY.refresh, PRIORITY.background]);
  } finally {
    await queue.close();
    await connection.quit();
  }
}

describe('a global bound on lookups: many addresses cannot queue hours of billed calls', () => {
  let stack: Stack;
  beforeAll(async () => {
    // An API alone (no worker takes the jobs): what waits stays waiting. 2 calls/s x 5 s: 10 lookups may wait.
    stack = await startStack({ role: 'api', env: { TRUST_PROXY: 'true', GREEN_API_RATE_PER_SEC: '2', LOOKUP_BACKLOG_SECONDS: '5', MISS_WAIT_MS: '20', MEMORY_CACHE_MB: '0' } });
  });
  afterAll(() => stack.close());

  it('60 cold contacts from 60 addresses: 10 are queued, the rest get pending at once with no job', async () => {
    const responses = [];
    for (let i = 0; i < 60; i++) {
      responses.push(await get(stack.url, `/avatar/${11007600000 + i}.webp`, { 'X-Forwarded-For': `198.51.100.${i + 1}` }));
    }
    expect(responses.every((r) => r.headers['x-avatar-status'] === 'pending' && r.headers['cache-control'] === 'no-store')).toBe(true);
    expect((await waiting(stack))[PRIORITY.interactive]).toBe(10);
  });
});

describe('IPv6 clients are counted by /64', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { TRUST_PROXY: 'true', MISS_RATE_PER_MIN: '3' }, clock: new ManualClock().now });
    stack.green.setFallback({ kind: 'no-avatar' });
  });
  afterAll(() => stack.close());

  it('a fourth lookup from another address of the same /64 is refused (429); another /64 is not', async () => {
    const from = (address: string, n: number) => get(stack.url, `/avatar/${11007700000 + n}.webp`, { 'X-Forwarded-For': address });
    for (let i = 1; i <= 3; i++) expect((await from(`2001:db8:aa:bb::${i}`, i)).status).toBe(200);
    const fourth = await from('2001:db8:aa:bb:ffff:1:2:3', 4);
    expect(fourth.status).toBe(429);
    expect(fourth.headers['retry-after']).toBeDefined();
    expect(stack.green.callsFor('11007700004@c.us')).toBe(0);
    expect((await from('2001:db8:aa:cc::1', 5)).status).toBe(200);
  });
});

describe('admin refresh has a budget of its own and never takes the interactive backlog', () => {
  let stack: Stack;
  const refresh = (id: string) => request(stack.url).post(`/v1/avatars/${id}/refresh`).set('Authorization', `Bearer ${ADMIN}`);
  beforeAll(async () => {
    stack = await startStack({ role: 'api', env: { ADMIN_TOKEN: ADMIN, REFRESH_RATE_PER_MIN: '5', MAX_QUEUE_BACKLOG: '2', MISS_WAIT_MS: '20' }, clock: new ManualClock().now });
  });
  afterAll(() => stack.close());

  it('REFRESH_RATE_PER_MIN refreshes are queued below page views; the next is 429 with Retry-After', async () => {
    for (let i = 0; i < 5; i++) expect((await refresh(String(11007800000 + i))).status).toBe(202);
    const refused = await refresh('11007800009');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await waiting(stack)).toMatchObject({ [PRIORITY.interactive]: 0, [PRIORITY.refresh]: 5 });
  });

  it('with five refreshes waiting and MAX_QUEUE_BACKLOG=2, a page view still queues its lookup', async () => {
    const view = await get(stack.url, '/avatar/11007800100.webp');
    expect(view.headers['x-avatar-status']).toBe('pending');
    await eventually(async () => (await waiting(stack))[PRIORITY.interactive] === 1, 2000, 20);
  });
});
