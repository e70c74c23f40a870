import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { readFileSync } from 'node:fs';
import { avatarSrcSet, avatarUrl, canonicalTarget, sign } from '../../src/client';
import { createKeys } from '../../src/avatar/keys';
import { eventually, ManualClock, startStack, type Stack } from '../helpers/stack';
import { errorOf, get } from '../helpers/http';

const KEY = 'test-signing-key-0123456789';
const README_VECTOR_SIG = 'kll4LOmah7cKr6gCD7JoQtpIiWFGABwJ6fLCn1hUsOk';

describe('signed URLs (SIGNING_KEY)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SIGNING_KEY: KEY } });
    stack.green.set('11000000700@c.us', { kind: 'avatar', url: await stack.images.add('signed') });
  });
  afterAll(() => stack.close());

  it('serves a URL signed by the helper, again from the cache, and never a tampered one', async () => {
    const url = avatarUrl('', '11000000700', { format: 'webp', size: 64, key: KEY });
    const res = await get(stack.url, url);
    expect(res.status).toBe(200);
    expect(res.headers['x-avatar-status']).toBe('ok');
    expect((await get(stack.url, url)).headers['x-cache']).toBe('HIT');
    expect((await get(stack.url, url.replace('size=64', 'size=65'))).status).toBe(403);
    const tampered = url.replace(/sig=(.)/, (_m: string, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    expect((await get(stack.url, tampered)).status).toBe(403);
  });

  it.each([
    ['no sig', '/avatar/11000000701.webp'],
    ['a wrong sig', '/avatar/11000000701.webp?sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a sig for another size', avatarUrl('', '11000000701', { format: 'webp', size: 64, key: KEY }).replace('size=64', 'size=640')],
    ['a sig for another id', avatarUrl('', '11000000701', { format: 'webp', key: KEY }).replace('11000000701', '11000000702')],
    ['a sig made with another key', avatarUrl('', '11000000701', { format: 'webp', key: 'another-key-0123456789' })],
    ['two sigs', `${avatarUrl('', '11000000701', { format: 'webp', key: KEY })}&sig=x`],
  ])('answers 403 to %s, before any upstream call', async (_name, url) => {
    const res = await get(stack.url, url);
    expect(res.status).toBe(403);
    expect(errorOf(res).code).toBe('invalid_signature');
    expect(stack.green.callsFor('11000000701@c.us')).toBe(0);
    expect(stack.green.callsFor('11000000702@c.us')).toBe(0);
  });

  it('the demo page signs URLs for DEMO_CONTACTS only: its lookup box is no signing oracle', async () => {
    const demo = await startStack({ env: { SIGNING_KEY: KEY, DEMO_PAGE: 'true', DEMO_CONTACTS: '11000000700' } });
    try {
      const listed = await get(demo.url, '/demo/urls?id=%2B1%20100%20000%200700');
      expect(listed.status).toBe(200);
      expect(JSON.parse(listed.body.toString('utf8')).image).toBe(avatarUrl('', '11000000700', { format: 'webp', size: 128, key: KEY }));
      const other = await get(demo.url, '/demo/urls?id=11000000799');
      expect(other.status).toBe(403);
      expect(errorOf(other).code).toBe('not_a_demo_contact');
      expect(other.body.toString('utf8')).not.toContain('sig=');
    } finally {
      await demo.close();
    }
  });

  it('ships `npm run sign`, which makes URLs the service accepts', async () => {
    const root = path.resolve(__dirname, '../..');
    const { stdout } = await promisify(execFile)(
      path.join(root, 'node_modules/.bin/tsx'),
      ['scripts/sign.ts', '11000000700', '--size', '64', '--format', 'webp'],
      { cwd: root, env: { ...process.env, SIGNING_KEY: KEY } },
    );
    const url = stdout.trim();
    expect(url).toBe(avatarUrl('', '11000000700', { format: 'webp', size: 64, key: KEY }));
    expect((await get(stack.url, url)).status).toBe(200);
  });
});

describe('the signature, exactly as the README specifies it', () => {
  it('matches the test vector', async () => {
    // key, path and query -> sig, as printed in the README and docs/signed-urls-and-opaque-ids.md.
    const key = 'example-signing-key-0123456789';
    const target = canonicalTarget('11001234567.webp', new URLSearchParams('size=64&name=Jane%20Doe&d=initials&exp=1893456000'));
    expect(target).toBe('/avatar/11001234567.webp?d=initials&exp=1893456000&name=Jane+Doe&size=64');
    expect(sign(key, target)).toBe(README_VECTOR_SIG);
    // The spec with its vector, and the README's summary of it.
    const readme = ['README.md', 'docs/signed-urls-and-opaque-ids.md'].map((file) => readFileSync(path.resolve(__dirname, '../..', file), 'utf8')).join('\n');
    expect(readme).toContain(key);
    // npm run sign reproduces it, every signed parameter included.
    const { stdout } = await promisify(execFile)(
      path.join(path.resolve(__dirname, '../..'), 'node_modules/.bin/tsx'),
      ['scripts/sign.ts', '11001234567', '--size', '64', '--format', 'webp', '--d', 'initials', '--name', 'Jane Doe', '--exp', '1893456000', '--key', key],
      { cwd: path.resolve(__dirname, '../..') },
    );
    expect(stdout.trim().endsWith(`sig=${README_VECTOR_SIG}`)).toBe(true);
    expect(readme).toContain(target);
    expect(readme).toContain(README_VECTOR_SIG);
  });
});

describe('expiring signed URLs and key rotation (SIGNING_KEYS)', () => {
  const NEW = 'new-signing-key-0123456789';
  const OLD = 'old-signing-key-0123456789';
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SIGNING_KEYS: `${NEW},${OLD}` } });
    stack.green.set('11000000710@c.us', { kind: 'no-avatar' });
  });
  afterAll(() => stack.close());

  it('accepts URLs signed with any listed key, and refuses others', async () => {
    for (const key of [NEW, OLD]) expect((await get(stack.url, avatarUrl('', '11000000710', { format: 'png', key }))).status).toBe(200);
    const other = await get(stack.url, avatarUrl('', '11000000710', { format: 'png', key: 'retired-key-0123456789' }));
    expect(errorOf(other).code).toBe('invalid_signature');
  });

  it('honours exp inside the signature: 403 expired_signature after it, and exp cannot be changed', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = avatarUrl('', '11000000710', { format: 'webp', size: 48, key: NEW, exp: now + 3600 });
    expect((await get(stack.url, valid)).status).toBe(200);
    const expired = await get(stack.url, avatarUrl('', '11000000710', { format: 'webp', size: 48, key: NEW, exp: now - 1 }));
    expect(expired.status).toBe(403);
    expect(errorOf(expired).code).toBe('expired_signature');
    const stretched = await get(stack.url, valid.replace(`exp=${now + 3600}`, `exp=${now + 7200}`));
    expect(errorOf(stretched).code).toBe('invalid_signature');
  });

  it('never serves an expired URL from memory, whatever the spelling of exp (the service\'s clock: no waiting)', async () => {
    const clock = new ManualClock();
    const timed = await startStack({ env: { SIGNING_KEYS: `${NEW},${OLD}` }, clock: clock.now });
    try {
      timed.green.set('11000000730@c.us', { kind: 'avatar', url: await timed.images.add('expiring') });
      const exp = Math.floor(clock.now() / 1000) + 2;
      const urls = [
        avatarUrl('', '11000000730', { format: 'webp', size: 32, key: NEW, exp }),
        avatarUrl('', '11000000730', { format: 'png', size: 32, key: NEW, exp }).replace('exp=', '%65xp='),
      ];
      for (const url of urls) {
        expect((await get(timed.url, url)).status).toBe(200);
        expect((await get(timed.url, url)).headers['x-cache']).toBe('HIT');
      }
      // Past exp, well within the memory's 10 s: only the signature check can answer 403.
      clock.advance(3);
      for (const url of urls) expect(errorOf(await get(timed.url, url)).code).toBe('expired_signature');
    } finally {
      await timed.close();
    }
  });

  it('compares exp with the service\'s clock (days pass in a test, no waiting)', async () => {
    const clock = new ManualClock();
    const timed = await startStack({ env: { SIGNING_KEYS: `${NEW},${OLD}` }, clock: clock.now });
    try {
      timed.green.set('11000000720@c.us', { kind: 'no-avatar' });
      const url = avatarUrl('', '11000000720', { format: 'png', key: NEW, exp: Math.floor(clock.now() / 1000) + 86_400 });
      expect((await get(timed.url, url)).status).toBe(200);
      clock.advance(86_400 + 1);
      expect(errorOf(await get(timed.url, url)).code).toBe('expired_signature');
    } finally {
      await timed.close();
    }
  });

  it('carries exp through: max-age ends with it, and the JSON info\'s links carry it', async () => {
    const exp = Math.floor(Date.now() / 1000) + 30;
    const image = await get(stack.url, avatarUrl('', '11000000710', { format: 'webp', size: 96, key: NEW, exp }));
    const maxAge = Number(/max-age=(\d+)/.exec(image.headers['cache-control']!)?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(30);
    const json = await get(stack.url, avatarUrl('', '11000000710', { format: 'json', size: 96, key: NEW, exp }));
    expect(Number(/max-age=(\d+)/.exec(json.headers['cache-control']!)?.[1])).toBeLessThanOrEqual(30);
    const info = JSON.parse(json.body.toString('utf8')) as { urls: Record<string, string>; srcset: string };
    expect(info.urls.png).toBe(avatarUrl('', '11000000710', { format: 'png', size: 96, key: NEW, exp }));
    for (const link of info.srcset.split(', ')) expect(link).toContain(`exp=${exp}`);
    expect((await get(stack.url, info.urls.png!)).status).toBe(200);
    // Without exp, the links carry none.
    const plain = JSON.parse((await get(stack.url, avatarUrl('', '11000000710', { format: 'json', key: NEW }))).body.toString('utf8')) as { urls: Record<string, string> };
    expect(plain.urls.webp).not.toContain('exp=');
  });

  it('the client helper makes URLs and srcsets the service accepts (JSON included)', async () => {
    const base = stack.url;
    const url = avatarUrl(base, '11000000710', { format: 'avif', size: 100, d: 'initials', name: 'Ольга Петрова', key: NEW });
    const res = await get(base, url.slice(base.length));
    expect(res.status).toBe(200);
    expect(res.headers['x-avatar-status']).toBe('no-avatar');
    const srcset = avatarSrcSet(base, '11000000710', { format: 'webp', size: 384, key: NEW });
    const entries = srcset.split(', ').map((e) => e.split(' '));
    expect(entries.map(([, x]) => x)).toEqual(['1x', '2x']);
    for (const [src] of entries) expect((await get(base, src!.slice(base.length))).status).toBe(200);
    const info = await request(base).get(avatarUrl('', '11000000710', { format: 'json', key: OLD }));
    expect(info.status).toBe(200);
  });
});

// Budgets count per minute of the service's clock: the stacks below hold it still, so no test straddles two
// minutes (and gets two budgets), however long it runs.
describe('per-client limit on requests that start an upstream call (MISS_RATE_PER_MIN)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { MISS_RATE_PER_MIN: '3', TRUST_PROXY: 'true' }, clock: new ManualClock().now });
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
    stack = await startStack({ env: { MISS_RATE_PER_MIN: '3', TRUST_PROXY: 'true', REFRESH_CHECK_SECONDS: '1' }, clock: new ManualClock().now });
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
    stack = await startStack({ env: { MISS_RATE_PER_MIN: '2' }, clock: new ManualClock().now });
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
    stack = await startStack({ env: { RENDER_RATE_PER_MIN: '10' }, clock: new ManualClock().now });
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
    const fields = await stack.redis.hkeys(createKeys(stack.config.redis.keyPrefix).meta('11000001301@c.us'));
    expect(fields.filter((field) => /^v\d+:/.test(field))).toHaveLength(11);
    // Rendered variants are hits now, free for everyone; another client has its own budget.
    expect((await get(stack.url, '/avatar/11000001301.webp?size=32')).status).toBe(200);
  });

  it('gives a client its budget again in the next minute', async () => {
    const clock = new ManualClock();
    const one = await startStack({ env: { RENDER_RATE_PER_MIN: '1' }, clock: clock.now });
    try {
      one.green.set('11000001303@c.us', { kind: 'avatar', url: await one.images.add('next-minute') });
      await get(one.url, '/avatar/11000001303.webp');
      expect((await get(one.url, '/avatar/11000001303.png?size=96')).status).toBe(200);
      expect((await get(one.url, '/avatar/11000001303.png?size=64')).status).toBe(429);
      clock.advance(60);
      expect((await get(one.url, '/avatar/11000001303.png?size=64')).status).toBe(200);
    } finally {
      await one.close();
    }
  });

  it('does not charge requests that join a render in flight', async () => {
    const one = await startStack({ env: { RENDER_RATE_PER_MIN: '1' }, clock: new ManualClock().now });
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
