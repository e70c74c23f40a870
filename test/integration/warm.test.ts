import request from 'supertest';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';

const ADMIN = 'admin-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${ADMIN}` };

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_TOKEN: ADMIN, MISS_RATE_PER_MIN: '0', WORKER_CONCURRENCY: '16', GREEN_API_RATE_PER_SEC: '1000' } });
});
afterAll(() => stack.close());

const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(11004000000 + from + i));

async function batchStatus(batchId: string) {
  return (await request(stack.url).get(`/v1/warm/${batchId}`).set(auth)).body as Record<string, number>;
}

describe('admin endpoints', () => {
  it.each([
    ['no Authorization', {}],
    ['a wrong token', { Authorization: 'Bearer wrong-token-0123456789abcd' }],
    ['a Basic scheme', { Authorization: `Basic ${ADMIN}` }],
  ])('refuse %s with 401', async (_name, headers) => {
    const warm = await request(stack.url).post('/v1/warm').set(headers).send({ chatIds: ['11001234567'] });
    expect(warm.status).toBe(401);
    expect(warm.body.error.code).toBe('unauthorized');
    expect((await request(stack.url).get('/admin/queues').set(headers)).status).toBe(401);
    expect(stack.green.calls).toHaveLength(0);
  });

  it('serve the queue dashboard to the admin', async () => {
    const res = await request(stack.url).get('/admin/queues').set(auth);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html');
    const api = await request(stack.url).get('/admin/queues/api/queues').set(auth);
    expect(api.status).toBe(200);
    expect(JSON.stringify(api.body)).toContain('resolve');
  });

  it('are off (404) when ADMIN_TOKEN is unset, never open', async () => {
    const open = await startStack();
    try {
      expect((await request(open.url).post('/v1/warm').send({ chatIds: ['11001234567'] })).status).toBe(404);
      expect((await request(open.url).get('/admin/queues')).status).toBe(404);
    } finally {
      await open.close();
    }
  });
});

describe('POST /v1/warm', () => {
  it('validates ids and counts duplicates', async () => {
    const res = await request(stack.url)
      .post('/v1/warm')
      .set(auth)
      .send({ chatIds: ['11004100001', '11004100001@c.us', 11004100002, 'nope', '79001234567-1581234048', null] });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: 3, duplicates: 1 });
    expect(res.body.batchId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.invalid).toEqual([
      { id: 'nope', error: 'invalid_chat_id' },
      { id: 'null', error: 'invalid_chat_id' },
    ]);
  });

  it('takes text/plain, one id per line', async () => {
    const res = await request(stack.url).post('/v1/warm').set(auth).set('Content-Type', 'text/plain').send('11004200001\n11004200002\r\n\n11004200001\n');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: 2, duplicates: 1, invalid: [] });
  });

  it.each([
    ['a body without chatIds', { ids: [] }, 400, 'invalid_body'],
    ['an empty list', { chatIds: [] }, 400, 'invalid_body'],
    ['force that is not a boolean', { chatIds: ['11004300001'], force: 'yes' }, 400, 'invalid_body'],
    ['an id that is an object', { chatIds: ['11004300001', { id: '11004300002' }] }, 400, 'invalid_body'],
    ['an id nested 5,000 lists deep', `{"chatIds":[${'['.repeat(5000)}1${']'.repeat(5000)}]}`, 400, 'invalid_body'],
    ['a body nested 200,000 levels deep', `{"chatIds":[${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}]}`, 400, expect.stringMatching(/^(invalid_body|bad_request)$/)],
    ['malformed JSON', '{"chatIds": [', 400, 'bad_request'],
    ['10,001 ids', { chatIds: ids(500_000, 10_001) }, 413, 'too_many_ids'],
  ])('refuses %s', async (_name, body, status, code) => {
    const res = await request(stack.url).post('/v1/warm').set(auth).set('Content-Type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));
    expect(res.status).toBe(status);
    expect(res.body.error.code).toEqual(code);
  });

  it('answers 404 for an unknown batch', async () => {
    const res = await request(stack.url).get('/v1/warm/00000000-0000-0000-0000-000000000000').set(auth);
    expect(res.status).toBe(404);
  });
});

describe('a 1,000-id warm batch', () => {
  it('completes with the right counts and exactly one GetAvatar per distinct id; the same batch again costs nothing', async () => {
    const batch = ids(0, 1000);
    const avatarUrl = await stack.images.add('warm-face');
    batch.forEach((id, i) => {
      const chatId = `${id}@c.us`;
      if (i % 10 === 0) stack.green.set(chatId, { kind: 'avatar', url: avatarUrl });
      else if (i % 10 === 1) stack.green.set(chatId, { kind: 'no-avatar' });
      else if (i % 10 === 2) stack.green.set(chatId, { kind: 'hidden', generation: 'available' });
      else stack.green.set(chatId, { kind: 'not-on-whatsapp' });
    });
    const started = await request(stack.url).post('/v1/warm').set(auth).send({ chatIds: [...batch, ...batch.slice(0, 10)] });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ accepted: 1000, duplicates: 10, invalid: [] });

    await eventually(async () => (await batchStatus(started.body.batchId)).pending === 0, 90_000, 200);
    expect(await batchStatus(started.body.batchId)).toEqual({
      total: 1000,
      done: 1000,
      withAvatar: 100,
      noAvatar: 100,
      private: 100,
      notOnWhatsapp: 700,
      failed: 0,
      pending: 0,
    });
    expect(stack.green.calls.filter((c) => batch.includes(c.chatId.split('@')[0]!))).toHaveLength(1000);
    expect(new Set(stack.green.calls.map((c) => c.chatId)).size).toBe(stack.green.calls.length);

    // Warmed: a page view is a cache hit.
    const hit = await get(stack.url, `/avatar/${batch[0]}.webp`);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['x-avatar-status']).toBe('ok');

    const calls = stack.green.calls.length;
    const again = await request(stack.url).post('/v1/warm').set(auth).send({ chatIds: batch });
    expect((await batchStatus(again.body.batchId)).done).toBe(1000);
    expect(stack.green.calls.length).toBe(calls);
  }, 120_000);

  it('with force, asks again', async () => {
    const batch = ids(0, 5);
    const before = stack.green.calls.length;
    const res = await request(stack.url).post('/v1/warm').set(auth).send({ chatIds: batch, force: true });
    await eventually(async () => (await batchStatus(res.body.batchId)).pending === 0, 10_000, 100);
    expect(stack.green.calls.length - before).toBe(5);
  });

  it('counts ids whose resolve finally fails as failed', async () => {
    const failing = await startStack({ env: { ADMIN_TOKEN: ADMIN, JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '20' } });
    try {
      failing.green.setFallback({ kind: 'http', status: 500 });
      failing.green.set('11004900001@c.us', { kind: 'no-avatar' });
      const res = await request(failing.url).post('/v1/warm').set(auth).send({ chatIds: ['11004900001', '11004900002'] });
      await eventually(async () => (await request(failing.url).get(`/v1/warm/${res.body.batchId}`).set(auth)).body.pending === 0, 10_000, 100);
      const status = (await request(failing.url).get(`/v1/warm/${res.body.batchId}`).set(auth)).body;
      expect(status).toMatchObject({ total: 2, done: 2, noAvatar: 1, failed: 1 });
    } finally {
      await failing.close();
    }
  });
});

describe('priorities', () => {
  it('an interactive miss issued while a big batch is queued finishes before the batch does', async () => {
    const slow = await startStack({ env: { ADMIN_TOKEN: ADMIN, GREEN_API_RATE_PER_SEC: '100', MISS_WAIT_MS: '5000' } });
    try {
      slow.green.setFallback({ kind: 'not-on-whatsapp' });
      const res = await request(slow.url).post('/v1/warm').set(auth).send({ chatIds: ids(20_000, 300) });
      expect(res.status).toBe(202);
      const interactive = await get(slow.url, '/avatar/11009999999.webp');
      expect(interactive.headers['x-avatar-status']).toBe('not-on-whatsapp');
      const status = (await request(slow.url).get(`/v1/warm/${res.body.batchId}`).set(auth)).body;
      expect(status.pending).toBeGreaterThan(100);
    } finally {
      await slow.close();
    }
  }, 30_000);

  it('a 400-id batch with MAX_QUEUE_BACKLOG=50 never makes a page view wait: the bound counts interactive jobs only', async () => {
    const slow = await startStack({ env: { ADMIN_TOKEN: ADMIN, GREEN_API_RATE_PER_SEC: '100', MAX_QUEUE_BACKLOG: '50', MISS_WAIT_MS: '5000' } });
    try {
      slow.green.setFallback({ kind: 'no-avatar' });
      const res = await request(slow.url).post('/v1/warm').set(auth).send({ chatIds: ids(30_000, 400) });
      expect(res.status).toBe(202);
      const view = await get(slow.url, '/avatar/11009999998.webp');
      expect(view.headers['x-avatar-status']).toBe('no-avatar');
      expect(slow.green.callsFor('11009999998@c.us')).toBe(1);
      expect((await request(slow.url).get(`/v1/warm/${res.body.batchId}`).set(auth)).body.pending).toBeGreaterThan(300);
    } finally {
      await slow.close();
    }
  }, 30_000);

  it('warm batches have a bound of their own (MAX_WARM_BACKLOG), forced ones included: 429, and nothing queued', async () => {
    const bounded = await startStack({ env: { ADMIN_TOKEN: ADMIN, GREEN_API_RATE_PER_SEC: '20', MAX_WARM_BACKLOG: '300' } });
    try {
      bounded.green.setFallback({ kind: 'no-avatar' });
      expect((await request(bounded.url).post('/v1/warm').set(auth).send({ chatIds: ids(40_000, 250) })).status).toBe(202);
      for (const body of [{ chatIds: ids(41_000, 100) }, { chatIds: ids(42_000, 100), force: true }]) {
        const refused = await request(bounded.url).post('/v1/warm').set(auth).send(body);
        expect(refused.status).toBe(429);
        expect(refused.body.error.code).toBe('warm_backlog_full');
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      }
      const refusedIds = new Set([...ids(41_000, 100), ...ids(42_000, 100)].map((id) => `${id}@c.us`));
      expect(bounded.green.calls.filter((c) => refusedIds.has(c.chatId))).toEqual([]);
      // Interactive misses are never refused because of warm work.
      expect((await get(bounded.url, '/avatar/11009999997.webp')).headers['x-avatar-status']).toBe('no-avatar');
    } finally {
      await bounded.close();
    }
  }, 30_000);
});
