import { rmSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { contactTag } from '../../src/avatar/response';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';

const ADMIN = 'admin-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${ADMIN}` };

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_TOKEN: ADMIN, MEMORY_CACHE_TTL_MS: '0' } });
});
afterAll(() => stack.close());

describe('POST /v1/avatars/:id/refresh', () => {
  it('re-resolves a fresh answer now with exactly one GetAvatar call, and shows the new picture', async () => {
    stack.green.set('11007000001@c.us', { kind: 'avatar', url: await stack.images.add('before-refresh', { seed: 41 }) });
    const before = await get(stack.url, '/avatar/11007000001.webp');
    stack.green.set('11007000001@c.us', { kind: 'avatar', url: await stack.images.add('after-refresh', { seed: 42 }) }, 200);

    // Three refreshes at once while the first is in flight: joined, one call.
    const answers = await Promise.all([1, 2, 3].map(() => request(stack.url).post('/v1/avatars/11007000001/refresh').set(auth)));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers[0]!.body).toEqual({ chatId: '11007000001@c.us', refresh: 'queued' });
    await eventually(async () => (await get(stack.url, '/avatar/11007000001.webp')).headers['etag'] !== before.headers['etag'], 5000, 50);
    expect(stack.green.callsFor('11007000001@c.us')).toBe(2);
    expect(stack.images.downloads('after-refresh')).toBe(1);
  });

  it('gives a picture stored before picture info existed its info at the next refresh, without downloading it again', async () => {
    stack.green.set('11007000003@c.us', { kind: 'avatar', url: await stack.images.add('stored-without-info', { seed: 43 }) });
    await get(stack.url, '/avatar/11007000003.webp');
    const { keyPrefix } = stack.config.redis;
    const infoKeys = async () => stack.redis.keys(`${keyPrefix}:info:*`);
    const before = (await infoKeys()).length;
    await stack.redis.del(...(await infoKeys()));
    rmSync(join(stack.storageDir, 'info'), { recursive: true });
    expect((await request(stack.url).get('/avatar/11007000003.json')).body.thumbhash).toBeNull();

    await request(stack.url).post('/v1/avatars/11007000003/refresh').set(auth);
    await eventually(async () => (await request(stack.url).get('/avatar/11007000003.json')).body.thumbhash !== null, 5000, 50);
    expect((await infoKeys()).length).toBeGreaterThanOrEqual(1);
    expect(before).toBeGreaterThanOrEqual(1);
    expect(stack.green.callsFor('11007000003@c.us')).toBe(2);
    expect(stack.images.downloads('stored-without-info')).toBe(1);
  });

  it('refuses a bad id (400) and works only with the admin token (401)', async () => {
    expect((await request(stack.url).post('/v1/avatars/123/refresh').set(auth)).body.error.code).toBe('invalid_chat_id');
    expect((await request(stack.url).post('/v1/avatars/11007000001/refresh')).status).toBe(401);
    expect((await request(stack.url).delete('/v1/avatars/11007000001').set({ Authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
  });
});

describe('DELETE /v1/avatars/:id', () => {
  it('forgets the answer and its failure marker: the next request resolves again', async () => {
    stack.green.set('11007000002@c.us', { kind: 'no-avatar' });
    await get(stack.url, '/avatar/11007000002.webp');
    expect((await get(stack.url, '/avatar/11007000002.webp')).headers['x-cache']).toBe('HIT');
    expect(stack.green.callsFor('11007000002@c.us')).toBe(1);

    const forgot = await request(stack.url).delete('/v1/avatars/11007000002').set(auth);
    expect(forgot.status).toBe(204);
    stack.green.set('11007000002@c.us', { kind: 'avatar', url: await stack.images.add('after-forget') });
    const next = await get(stack.url, '/avatar/11007000002.webp');
    expect(next.headers['x-avatar-status']).toBe('ok');
    expect(stack.green.callsFor('11007000002@c.us')).toBe(2);
  });

  it('answers 404 when ADMIN_TOKEN is unset', async () => {
    const open = await startStack();
    try {
      expect((await request(open.url).delete('/v1/avatars/11007000002')).status).toBe(404);
      expect((await request(open.url).post('/v1/avatars/11007000002/refresh')).status).toBe(404);
    } finally {
      await open.close();
    }
  });
});

describe('purge tags and CORS on avatar responses', () => {
  it('names the contact by a hash in Surrogate-Key and Cache-Tag, never by its number', async () => {
    const res = await get(stack.url, '/avatar/11007000003.webp');
    expect(res.headers['surrogate-key']).toBe(contactTag('11007000003@c.us'));
    expect(res.headers['cache-tag']).toBe(res.headers['surrogate-key']);
    expect(res.headers['surrogate-key']).not.toContain('11007000003');
  });

  it('lets any origin read images by default, 304s included, and answers preflights', async () => {
    const first = await get(stack.url, '/avatar/11007000003.webp', { Origin: 'https://crm.example.com' });
    expect(first.headers['access-control-allow-origin']).toBe('*');
    expect(first.headers['timing-allow-origin']).toBe('*');
    expect(first.headers['access-control-expose-headers']).toContain('X-Avatar-Status');
    const revalidated = await get(stack.url, '/avatar/11007000003.webp', { 'If-None-Match': String(first.headers['etag']) });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers['access-control-allow-origin']).toBe('*');
    const preflight = await request(stack.url).options('/avatar/11007000003.webp').set('Origin', 'https://crm.example.com').set('Access-Control-Request-Method', 'GET');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toContain('GET');
  });

  it('with CORS_ORIGINS, echoes only a listed origin and says Vary: Origin', async () => {
    const listed = await startStack({ env: { CORS_ORIGINS: 'https://crm.example.com, https://desk.example.com' } });
    try {
      const ok = await get(listed.url, '/avatar/11007000004.webp', { Origin: 'https://desk.example.com' });
      expect(ok.headers['access-control-allow-origin']).toBe('https://desk.example.com');
      expect(ok.headers['vary']).toContain('Origin');
      const hit = await get(listed.url, '/avatar/11007000004.webp', { Origin: 'https://crm.example.com' });
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.headers['access-control-allow-origin']).toBe('https://crm.example.com');
      const other = await get(listed.url, '/avatar/11007000004.webp', { Origin: 'https://evil.example.net' });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      expect(other.headers['vary']).toContain('Origin');
    } finally {
      await listed.close();
    }
  });
});
