import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { signedAvatarPath } from '../../src/security/signing';
import { createKeys } from '../../src/avatar/keys';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { errorOf, get } from '../helpers/http';

const KEY = 'test-signing-key-0123456789';

describe('signed URLs (SIGNING_KEY)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SIGNING_KEY: KEY } });
    stack.green.set('11000000700@c.us', { kind: 'avatar', url: await stack.images.add('signed') });
  });
  afterAll(() => stack.close());

  it('serves a URL signed by the helper, again from the cache, and never a tampered one', async () => {
    const url = signedAvatarPath(KEY, '11000000700', { format: 'webp', size: 64 });
    const res = await get(stack.url, url);
    expect(res.status).toBe(200);
    expect(res.headers['x-avatar-status']).toBe('ok');
    expect((await get(stack.url, url)).headers['x-cache']).toBe('HIT');
    expect((await get(stack.url, url.replace('size=64', 'size=65'))).status).toBe(403);
    const tampered = url.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    expect((await get(stack.url, tampered)).status).toBe(403);
  });

  it.each([
    ['no sig', '/avatar/11000000701.webp'],
    ['a wrong sig', '/avatar/11000000701.webp?sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a sig for another size', signedAvatarPath(KEY, '11000000701', { format: 'webp', size: 64 }).replace('size=64', 'size=640')],
    ['a sig for another id', signedAvatarPath(KEY, '11000000701', { format: 'webp' }).replace('11000000701', '11000000702')],
    ['a sig made with another key', signedAvatarPath('another-key-0123456789', '11000000701', { format: 'webp' })],
    ['two sigs', `${signedAvatarPath(KEY, '11000000701', { format: 'webp' })}&sig=x`],
  ])('answers 403 to %s, before any upstream call', async (_name, url) => {
    const res = await get(stack.url, url);
    expect(res.status).toBe(403);
    expect(errorOf(res).code).toBe('invalid_signature');
    expect(stack.green.callsFor('11000000701@c.us')).toBe(0);
    expect(stack.green.callsFor('11000000702@c.us')).toBe(0);
  });

  it('ships `npm run sign`, which makes URLs the service accepts', async () => {
    const root = path.resolve(__dirname, '../..');
    const { stdout } = await promisify(execFile)(
      path.join(root, 'node_modules/.bin/tsx'),
      ['scripts/sign.ts', '11000000700', '--size', '64', '--format', 'webp'],
      { cwd: root, env: { ...process.env, SIGNING_KEY: KEY } },
    );
    const url = stdout.trim();
    expect(url).toBe(signedAvatarPath(KEY, '11000000700', { format: 'webp', size: 64 }));
    expect((await get(stack.url, url)).status).toBe(200);
  });
});

describe('per-client limit on requests that start an upstream call (MISS_RATE_PER_MIN)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { MISS_RATE_PER_MIN: '3', TRUST_PROXY: 'true' } });
    stack.green.setFallback({ kind: 'not-on-whatsapp' });
  });
  afterAll(() => stack.close());

  it('answers 429 with Retry-After and a placeholder image once a client exceeds it; hits stay free', async () => {
    const client = { 'X-Forwarded-For': '198.51.100.7' };
    for (const id of ['11000000801', '11000000802', '11000000803']) {
      expect((await get(stack.url, `/avatar/${id}.webp`, client)).status).toBe(200);
    }
    const limited = await get(stack.url, '/avatar/11000000804.webp', client);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toBe('image/webp');
    expect(limited.headers['cache-control']).toBe('no-store');
    expect(stack.green.callsFor('11000000804@c.us')).toBe(0);

    // Cached answers do not count.
    expect((await get(stack.url, '/avatar/11000000801.webp?size=64', client)).status).toBe(200);
    // Another client has its own budget.
    expect((await get(stack.url, '/avatar/11000000804.webp', { 'X-Forwarded-For': '198.51.100.8' })).status).toBe(200);
  });

  it('counts 20 concurrent requests for one cold avatar as one', async () => {
    const client = { 'X-Forwarded-For': '198.51.100.9' };
    const responses = await Promise.all(Array.from({ length: 20 }, () => get(stack.url, '/avatar/11000000900.webp', client)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(stack.green.callsFor('11000000900@c.us')).toBe(1);
  });
});

describe('X-Forwarded-For values that are not addresses, with TRUST_PROXY=true', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { MISS_RATE_PER_MIN: '3', TRUST_PROXY: 'true', REFRESH_CHECK_SECONDS: '1' } });
  });
  afterAll(() => stack.close());

  it('are ignored: every garbage value counts as the connection itself, and a refused request is not remembered for keep-fresh', async () => {
    const garbage = ['garbage', 'x'.repeat(200), '<script>', 'unknown', '999.999.1.1'];
    const statuses = [];
    for (const [i, value] of garbage.entries()) {
      statuses.push((await get(stack.url, `/avatar/1100000120${i}.webp`, { 'X-Forwarded-For': value })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(stack.green.callsFor('11000001203@c.us')).toBe(0);
    // Keep-fresh remembers the three views, not the two refusals.
    const recent = createKeys(stack.config.redis.keyPrefix).recent;
    await eventually(async () => (await stack.redis.zcard(recent)) === 3, 5000);
    expect(await stack.redis.zscore(recent, '11000001203@c.us')).toBeNull();
  });
});

describe('X-Forwarded-For without TRUST_PROXY', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { MISS_RATE_PER_MIN: '2' } });
  });
  afterAll(() => stack.close());

  it('is not believed: a client cannot spread its misses over made-up addresses', async () => {
    const statuses = [];
    for (const [i, id] of ['11000001001', '11000001002', '11000001003'].entries()) {
      statuses.push((await get(stack.url, `/avatar/${id}.webp`, { 'X-Forwarded-For': `203.0.113.${i}` })).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe('response headers', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('lets other sites embed images, forbids sniffing, and does not advertise Express', async () => {
    const res = await get(stack.url, '/avatar/11000001100.webp');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(res.headers['x-powered-by']).toBeUndefined();
    const error = await request(stack.url).get('/avatar/1.webp');
    expect(error.headers['x-powered-by']).toBeUndefined();
  });
});

describe('per-client render budget (RENDER_RATE_PER_MIN)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { RENDER_RATE_PER_MIN: '10' } });
  });
  afterAll(() => stack.close());

  it('one client asking 36 variants of a cached avatar gets 10 renders, then 429 with Retry-After and the placeholder image', async () => {
    stack.green.set('11000001301@c.us', { kind: 'avatar', url: await stack.images.add('many-variants') });
    // The default variant comes with the answer and costs no render.
    expect((await get(stack.url, '/avatar/11000001301.webp')).status).toBe(200);
    const sizes = [32, 48, 64, 96, 192, 256, 384, 512, 640];
    const variants = ['webp', 'avif', 'png', 'jpg'].flatMap((format) => sizes.map((size) => `${format}?size=${size}`));
    expect(variants).toHaveLength(36);
    const statuses: number[] = [];
    for (const variant of variants) {
      const res = await get(stack.url, `/avatar/11000001301.${variant}`);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        expect(res.headers['x-avatar-status']).toBe('rate-limited');
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['content-type']).toMatch(/^image\//);
      }
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(26);
    // What was stored: the default variant and ten renders.
    const keys = await stack.redis.keys(`${stack.config.redis.keyPrefix}:img:*`);
    expect(keys).toHaveLength(11);
    // Rendered variants are hits now, free for everyone; another client has its own budget.
    expect((await get(stack.url, '/avatar/11000001301.webp?size=32')).status).toBe(200);
  });

  it('does not charge requests that join a render in flight', async () => {
    const one = await startStack({ env: { RENDER_RATE_PER_MIN: '1' } });
    try {
      one.green.set('11000001302@c.us', { kind: 'avatar', url: await one.images.add('joined-render') });
      await get(one.url, '/avatar/11000001302.webp');
      // 20 concurrent requests for one new variant: one render, charged once, so all of them are served...
      const joined = await Promise.all(Array.from({ length: 20 }, () => get(one.url, '/avatar/11000001302.png?size=96')));
      expect(joined.map((r) => `${r.status} ${r.headers['x-avatar-status']}`)).toEqual(Array(20).fill('200 ok'));
      // ...and the budget of one render is then spent.
      expect((await get(one.url, '/avatar/11000001302.png?size=64')).status).toBe(429);
    } finally {
      await one.close();
    }
  });
});
