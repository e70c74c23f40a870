import { createKeys } from '../../src/avatar/keys';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { get, readyz } from '../helpers/http';

/** /readyz's details are the admin's on the public port. */
const READYZ_ADMIN = 'admin-token-0123456789abcdef';

/** Requests until the avatar is ok (bounded). */
async function untilOk(stack: Stack, path: string): Promise<void> {
  await eventually(async () => (await get(stack.url, path)).headers['x-avatar-status'] === 'ok', 8000, 50);
}

describe('Green API errors', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { JOB_BACKOFF_MS: '50', GREEN_API_TIMEOUT_MS: '300' } });
  });
  afterAll(() => stack.close());

  it('pauses on 429 for Retry-After, then retries: the job is not lost', async () => {
    const chatId = '11000001301@c.us';
    stack.green.queue(chatId, { kind: 'http', status: 429, body: {}, headers: { 'Retry-After': '1' } });
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('after-429') });
    const res = await get(stack.url, '/avatar/11000001301.webp');
    expect(res.headers['x-avatar-status']).toBe('ok');
    expect(stack.green.callsFor(chatId)).toBe(2);
    const [first, second] = stack.green.calls.filter((c) => c.chatId === chatId);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
  });

  it.each([
    ['HTTP 500', '11000001401', { kind: 'http', status: 500 } as const],
    ['HTTP 502', '11000001402', { kind: 'http', status: 502 } as const],
    ['get avatar timeout limit exceeded', '11000001403', { kind: 'reason', reason: 'get avatar timeout limit exceeded' } as const],
    ['rate-overlimit', '11000001404', { kind: 'reason', reason: 'rate-overlimit' } as const],
    ['an answer with none of urlAvatar, existsWhatsapp, available', '11000001405', { kind: 'json', body: { lastSeen: 1 } } as const],
    ['a urlAvatar that is not a string', '11000001406', { kind: 'json', body: { urlAvatar: null } } as const],
  ])('retries after %s with backoff and never caches it as an answer', async (_name, id, failure) => {
    const chatId = `${id}@c.us`;
    stack.green.queue(chatId, failure, failure);
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add(`retry-${id}`) });
    await untilOk(stack, `/avatar/${id}.webp`);
    expect(stack.green.callsFor(chatId)).toBe(3);
  });

  it('retries a GetAvatar that times out (GREEN_API_TIMEOUT_MS)', async () => {
    const chatId = '11000001501@c.us';
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('slow-api') }, 1000);
    const first = await get(stack.url, '/avatar/11000001501.webp');
    expect(first.headers['cache-control']).toBe('no-store');
    await eventually(() => stack.green.callsFor(chatId) >= 2, 5000);
  });

  it('caches `bad request data` as a permanent answer, with no retry', async () => {
    const chatId = '11000001601@c.us';
    stack.green.set(chatId, { kind: 'reason', reason: 'bad request data' });
    const res = await get(stack.url, '/avatar/11000001601.webp');
    expect(res.headers['x-avatar-status']).toBe('not-on-whatsapp');
    expect(res.headers['cache-control']).toMatch(/^public, max-age=/);
    await get(stack.url, '/avatar/11000001601.png');
    expect(stack.green.callsFor(chatId)).toBe(1);
  });

  it('asks GetAvatar once more when the image link has expired (403/404/410), then downloads the new one', async () => {
    const chatId = '11000001701@c.us';
    const expired = await stack.images.add('expired-link');
    stack.images.update('expired-link', { status: 410 });
    stack.green.queue(chatId, { kind: 'avatar', url: expired });
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('fresh-link') });
    const res = await get(stack.url, '/avatar/11000001701.webp');
    expect(res.headers['x-avatar-status']).toBe('ok');
    expect(stack.green.callsFor(chatId)).toBe(2);
    expect(stack.images.downloads('expired-link')).toBe(1);
    expect(stack.images.downloads('fresh-link')).toBe(1);
  });

  it('gives up after JOB_ATTEMPTS transient failures: a visible failure, an error placeholder, nothing cached', async () => {
    const chatId = '11000001801@c.us';
    stack.green.set(chatId, { kind: 'http', status: 503 });
    const first = await get(stack.url, '/avatar/11000001801.webp');
    expect(first.headers['cache-control']).toBe('no-store');
    await eventually(() => stack.logs.some((l) => l.msg === 'job failed' && l.chatId === chatId), 8000);
    expect(stack.green.callsFor(chatId)).toBe(stack.config.jobs.attempts);
    expect(await stack.redis.hexists(createKeys(stack.config.redis.keyPrefix).meta(chatId), 'status')).toBe(0);
    // For FAILURE_BACKOFF_SECONDS, requests get the error placeholder without spending another call.
    const after = await get(stack.url, '/avatar/11000001801.webp');
    expect(after.headers['x-avatar-status']).toBe('error');
    expect(after.headers['cache-control']).toBe('no-store');
    expect(stack.green.callsFor(chatId)).toBe(stack.config.jobs.attempts);
  });
});

describe('a refused instance (401/403/400) and an exhausted plan (466)', () => {
  it.each([
    ['401', 401, 'unauthorized'],
    ['403', 403, 'unauthorized'],
    ['400 instance not authorized', 400, 'unauthorized'],
    ['466', 466, 'quota'],
  ])('after a %s: no more calls for the cool-down, /readyz says so and stays 200, hits keep working', async (_n, status, state) => {
    const stack = await startStack({ env: { ADMIN_TOKEN: READYZ_ADMIN } });
    try {
      stack.green.set('11000001901@c.us', { kind: 'avatar', url: await stack.images.add('kept') });
      expect((await get(stack.url, '/avatar/11000001901.webp')).headers['x-avatar-status']).toBe('ok');

      const bodies: Record<number, unknown> = {
        400: { message: 'Instance account not authorized' },
        466: { invokeStatus: { method: 'getAvatar', used: '1000', total: '1000', status: 'QUOTE_ALLOWED_EXCEEDED', description: 'Monthly quota' } },
      };
      stack.green.setFallback({ kind: 'http', status, body: bodies[status] ?? {} });
      const refused = await get(stack.url, '/avatar/11000001902.webp');
      expect(refused.headers['x-avatar-status']).toBe('error');
      expect(refused.headers['cache-control']).toBe('no-store');
      const calls = stack.green.calls.length;

      const next = await get(stack.url, '/avatar/11000001903.webp');
      expect(next.headers['x-avatar-status']).toBe('error');
      expect(stack.green.calls.length).toBe(calls);

      const ready = await readyz(stack.url, READYZ_ADMIN);
      expect(ready.status).toBe(200);
      expect(ready.body.upstream).toBe(state);
      expect((await get(stack.url, '/avatar/11000001901.png?size=64')).headers['x-avatar-status']).toBe('ok');
      expect(stack.logs.some((l) => l.level === 50 && String(l.msg).includes(`paused: ${state}`))).toBe(true);
    } finally {
      await stack.close();
    }
  });
});

describe('a 429 with JOB_ATTEMPTS=1', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { JOB_ATTEMPTS: '1', MISS_WAIT_MS: '5000' } });
  });
  afterAll(() => stack.close());

  it('uses no attempt, in place as in a job: a request during the pause waits for the answer, not an error placeholder', async () => {
    const chatId = '11000001311@c.us';
    stack.green.queue(chatId, { kind: 'http', status: 429, body: {}, headers: { 'Retry-After': '1' } });
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('after-429-one-attempt') });
    const first = get(stack.url, '/avatar/11000001311.webp');
    await eventually(() => stack.logs.some((l) => l.msg === 'GetAvatar' && l.chatId === chatId && l.status === 429), 3000, 5);
    const during = await get(stack.url, '/avatar/11000001311.webp');
    expect(during.headers['x-avatar-status']).toBe('ok');
    expect((await first).headers['x-avatar-status']).toBe('ok');
    expect(stack.green.callsFor(chatId)).toBe(2);
  });
});

describe('a Green API 429 whose Retry-After is extreme (MAX_UPSTREAM_PAUSE_SECONDS=2)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { MAX_UPSTREAM_PAUSE_SECONDS: '2', JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '100', MISS_WAIT_MS: '100' } });
  });
  afterAll(() => stack.close());

  it('Retry-After: 86400 pauses lookups for MAX_UPSTREAM_PAUSE_SECONDS, not a day', async () => {
    const chatId = '11007500001@c.us';
    stack.green.queue(chatId, { kind: 'http', status: 429, body: {}, headers: { 'Retry-After': '86400' } });
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('after-a-day') });
    await get(stack.url, '/avatar/11007500001.webp');
    await eventually(() => stack.green.callsFor(chatId) === 2, 15_000, 50);
    const [first, second] = stack.green.calls.filter((c) => c.chatId === chatId);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1900);
    await eventually(async () => (await get(stack.url, '/avatar/11007500001.webp')).headers['x-avatar-status'] === 'ok', 5000, 100);
  }, 30_000);

  it('Retry-After: 0 on every call is a second apart at least, and the job fails after a bounded number of calls', async () => {
    const chatId = '11007500002@c.us';
    stack.green.set(chatId, { kind: 'http', status: 429, body: {}, headers: { 'Retry-After': '0' } });
    await get(stack.url, '/avatar/11007500002.webp');
    await eventually(() => stack.logs.some((l) => l.msg === 'job failed' && l.chatId === chatId), 30_000, 100);
    const calls = stack.green.calls.filter((c) => c.chatId === chatId).map((c) => c.at);
    // One in place, five waited out without an attempt, then the two attempts JOB_ATTEMPTS allows.
    expect(calls.length).toBeLessThanOrEqual(8);
    for (let i = 1; i < calls.length; i++) expect(calls[i]! - calls[i - 1]!).toBeGreaterThanOrEqual(900);
    const after = await get(stack.url, '/avatar/11007500002.webp');
    expect(after.headers['x-avatar-status']).toBe('error');
    expect(stack.green.callsFor(chatId)).toBe(calls.length);
  }, 40_000);
});
