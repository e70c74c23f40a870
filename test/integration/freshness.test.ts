import { createKeys } from '../../src/avatar/keys';
import { eventually, ManualClock, startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';

/**
 * Freshness over simulated time: the service reads an injected clock, so 16 s (or days) of lifetimes pass
 * in milliseconds. The memory cache is off: it expires in real time, and this test is about the answers.
 */
const ENV = { AVATAR_TTL_SECONDS: '2', NEGATIVE_TTL_SECONDS: '2', NEGATIVE_MAX_TTL_SECONDS: '60', MEMORY_CACHE_TTL_MS: '0' };

let stack: Stack;
const clock = new ManualClock();

beforeAll(async () => {
  stack = await startStack({ env: ENV, clock: clock.now });
});
afterAll(() => stack.close());

/** Requests the avatar once a simulated second for `seconds`; every response must be an image. */
async function requestEverySecond(id: string, seconds: number): Promise<{ statuses: string[]; etags: string[] }> {
  const chatId = `${id}@c.us`;
  const meta = createKeys(stack.config.redis.keyPrefix).meta(chatId);
  const statuses: string[] = [];
  const etags: string[] = [];
  for (let t = 0; t < seconds; t++) {
    const res = await get(stack.url, `/avatar/${id}.webp`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    statuses.push(String(res.headers['x-avatar-status']));
    etags.push(String(res.headers['etag']));
    if (res.headers['x-cache'] === 'STALE') {
      // The background refresh made its call and wrote a fresh answer before time moves on.
      await eventually(async () => Number(await stack.redis.hget(meta, 'freshUntil')) > clock.ms, 5000);
    }
    clock.advance(1);
  }
  return { statuses, etags };
}

describe('lifetimes that grow while nothing changes', () => {
  it('an unchanged picture costs at most 4 GetAvatar calls in 16 s with AVATAR_TTL_SECONDS=2, and is downloaded once', async () => {
    const chatId = '11000090001@c.us';
    const url = await stack.images.add('steady');
    // Each call hands out a newly signed link to the same picture path.
    stack.green.set(chatId, { kind: 'avatar', url, generation: 'available' });
    for (let i = 1; i <= 8; i++) stack.green.queue(chatId, { kind: 'avatar', url: `${url}&resigned=${i}`, generation: 'available' });

    const { statuses, etags } = await requestEverySecond('11000090001', 16);
    expect(statuses.every((s) => s === 'ok')).toBe(true);
    // Lifetimes 2, 4, 8, 16 s: calls at 0, 2, 6 and 14 s.
    expect(stack.green.callsFor(chatId)).toBe(4);
    expect(stack.images.downloads('steady')).toBe(1);
    expect(new Set(etags).size).toBe(1);
    // The answer keeps the newest link (for re-downloading the source), and its lifetime doubled.
    const stored = await stack.redis.hgetall(createKeys(stack.config.redis.keyPrefix).meta(chatId));
    expect(stored.url).toContain('resigned=4');
    expect(Number(stored.lifetime)).toBe(16);
  });

  it('a negative answer doubles too, up to NEGATIVE_MAX_TTL_SECONDS', async () => {
    const chatId = '11000090002@c.us';
    stack.green.set(chatId, { kind: 'no-avatar', generation: 'url-only' });
    const { statuses } = await requestEverySecond('11000090002', 16);
    expect(statuses.every((s) => s === 'no-avatar')).toBe(true);
    expect(stack.green.callsFor(chatId)).toBe(4);
  });

  it('a new picture path is downloaded at the next refresh, gets a new ETag, and starts again at the base lifetime', async () => {
    const chatId = '11000090003@c.us';
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('before-change', { seed: 11 }) });
    const before = await requestEverySecond('11000090003', 7); // calls at 0, 2, 6: lifetime now 8
    expect(stack.green.callsFor(chatId)).toBe(3);

    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('after-change', { seed: 12 }) });
    const after = await requestEverySecond('11000090003', 12); // t = 7..18: the old answer is fresh until 14
    expect(after.etags[0]).toBe(before.etags[0]);
    expect(stack.images.downloads('after-change')).toBe(1);
    expect(new Set(after.etags).size).toBe(2);
    const changedAt = after.etags.findIndex((e) => e !== before.etags[0]);
    // Served stale once at 14 s while the refresh ran, new from the next request on.
    expect(changedAt).toBe(8);
    // Changed: lifetime back to 2 s, so the next call came 2 s after the change was seen.
    expect(stack.green.callsFor(chatId)).toBe(5);
  });

  it("a new picture's other sizes are drawn from it, never from the old picture's thumbnails", async () => {
    const chatId = '11000090005@c.us';
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('sized-before', { seed: 31 }) });
    const oldDefault = await get(stack.url, '/avatar/11000090005.webp');
    const oldSmall = await get(stack.url, '/avatar/11000090005.png?size=64');
    expect(oldSmall.headers['x-avatar-status']).toBe('ok');

    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('sized-after', { seed: 32 }) });
    clock.advance(3);
    await requestEverySecond('11000090005', 2); // stale once, refreshed: the new picture from the next request on
    const newDefault = await get(stack.url, '/avatar/11000090005.webp');
    expect(newDefault.headers['etag']).not.toBe(oldDefault.headers['etag']);
    const newSmall = await get(stack.url, '/avatar/11000090005.png?size=64');
    expect(newSmall.status).toBe(200);
    expect(newSmall.headers['etag']).not.toBe(oldSmall.headers['etag']);
    // The same picture as the new default variant (its hash in both ETags), and other bytes than before.
    const pictureOf = (etag: unknown) => String(etag).split('-')[1];
    expect(pictureOf(newSmall.headers['etag'])).toBe(pictureOf(newDefault.headers['etag']));
    expect(Buffer.compare(newSmall.body as Buffer, oldSmall.body as Buffer)).not.toBe(0);
  });

  it('a new path with the same bytes keeps the ETag', async () => {
    const chatId = '11000090004@c.us';
    const bytes = Buffer.from(await (await fetch(await stack.images.add('same-a', { seed: 21 }))).arrayBuffer());
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('same-a', { bytes }) });
    const first = await get(stack.url, '/avatar/11000090004.webp');
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('same-b', { bytes }) });
    clock.advance(3);
    await requestEverySecond('11000090004', 2);
    expect(stack.images.downloads('same-b')).toBe(1);
    const later = await get(stack.url, '/avatar/11000090004.webp');
    expect(later.headers['etag']).toBe(first.headers['etag']);
  });
});

describe('Cache-Control in an answer\'s last second', () => {
  it('says max-age=1, never no-store, while the answer is still fresh', async () => {
    stack.green.set('11007400001@c.us', { kind: 'avatar', url: await stack.images.add('last-second') });
    const first = await get(stack.url, '/avatar/11007400001.webp');
    expect(first.headers['cache-control']).toBe('public, max-age=2, stale-while-revalidate=60');
    clock.advance(1.6);
    const last = await get(stack.url, '/avatar/11007400001.webp');
    expect(last.headers['x-cache']).toBe('HIT');
    expect(last.headers['cache-control']).toBe('public, max-age=1, stale-while-revalidate=60');
  });
});
