import sharp from 'sharp';
import { startStack, type Stack } from '../helpers/stack';
import { get, head } from '../helpers/http';

const USER = '11001234567';
const CHAT = `${USER}@c.us`;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  stack.green.set(CHAT, { kind: 'avatar', url: await stack.images.add('alice') });
});
afterAll(() => stack.close());

describe('a real avatar, end to end', () => {
  it('resolves a cold chatId, renders it and serves a cacheable thumbnail', async () => {
    const res = await get(stack.url, `/avatar/${USER}.webp`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    expect(res.headers['x-cache']).toBe('MISS');
    expect(res.headers['x-avatar-status']).toBe('ok');
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+/);
    expect(res.headers['etag']).toMatch(/^"[^"]+"$/);
    const meta = await sharp(res.body as Buffer).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 128, height: 128 });
    expect(stack.green.callsFor(CHAT)).toBe(1);
    expect(stack.images.downloads('alice')).toBe(1);
  });

  it('serves the second request from the cache with no upstream call', async () => {
    const first = await get(stack.url, `/avatar/${USER}.webp`);
    const second = await get(stack.url, `/avatar/${USER}.webp`);
    expect(second.status).toBe(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.headers['etag']).toBe(first.headers['etag']);
    expect(Buffer.compare(second.body as Buffer, first.body as Buffer)).toBe(0);
    expect(stack.green.callsFor(CHAT)).toBe(1);
    expect(stack.images.downloads('alice')).toBe(1);
  });

  it('answers 304 to If-None-Match with the current ETag', async () => {
    const first = await get(stack.url, `/avatar/${USER}.webp`);
    const res = await get(stack.url, `/avatar/${USER}.webp`, { 'If-None-Match': first.headers['etag']! });
    expect(res.status).toBe(304);
    expect((res.body as Buffer).length).toBe(0);
    expect(res.headers['etag']).toBe(first.headers['etag']);
    expect(res.headers['cache-control']).toBe(first.headers['cache-control']);
    const stale = await get(stack.url, `/avatar/${USER}.webp`, { 'If-None-Match': '"something-else"' });
    expect(stale.status).toBe(200);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const full = await get(stack.url, `/avatar/${USER}.webp`);
    const res = await head(stack.url, `/avatar/${USER}.webp`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    expect(res.headers['content-length']).toBe(String((full.body as Buffer).length));
    expect(res.headers['etag']).toBe(full.headers['etag']);
    expect(res.text ?? '').toBe('');
  });

  it.each([
    ['webp', 'image/webp', 'webp'],
    ['avif', 'image/avif', 'heif'],
    ['png', 'image/png', 'png'],
    ['jpg', 'image/jpeg', 'jpeg'],
    ['jpeg', 'image/jpeg', 'jpeg'],
  ])('serves .%s as %s', async (ext, contentType, sharpFormat) => {
    const res = await get(stack.url, `/avatar/${USER}.${ext}?size=64`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(contentType);
    const meta = await sharp(res.body as Buffer).metadata();
    expect(meta).toMatchObject({ format: sharpFormat, width: 64, height: 64 });
  });

  it('renders other sizes in a worker from the stored source, without a new GetAvatar or download', async () => {
    const calls = stack.green.callsFor(CHAT);
    const res = await get(stack.url, `/avatar/${USER}.png?size=512`);
    expect(res.status).toBe(200);
    expect(await sharp(res.body as Buffer).metadata()).toMatchObject({ width: 512, height: 512 });
    expect(stack.green.callsFor(CHAT)).toBe(calls);
    expect(stack.images.downloads('alice')).toBe(1);
  });

  it.each([
    [1, 32],
    [32, 32],
    [33, 48],
    [100, 128],
    [129, 192],
    [600, 640],
    [640, 640],
  ])('snaps size=%i up to %i', async (asked, served) => {
    const res = await get(stack.url, `/avatar/${USER}.jpg?size=${asked}`);
    expect(res.status).toBe(200);
    expect(await sharp(res.body as Buffer).metadata()).toMatchObject({ width: served, height: served });
  });

  it('gives jpg and jpeg the same variant and ETag', async () => {
    const a = await get(stack.url, `/avatar/${USER}.jpg`);
    const b = await get(stack.url, `/avatar/${USER}.jpeg`);
    expect(a.headers['etag']).toBe(b.headers['etag']);
  });

  it('accepts the full chatId, raw or with %40', async () => {
    const plain = await get(stack.url, `/avatar/${USER}.webp`);
    for (const path of [`/avatar/${USER}@c.us.webp`, `/avatar/${USER}%40c.us.webp`]) {
      const res = await get(stack.url, path);
      expect(res.status).toBe(200);
      expect(res.headers['etag']).toBe(plain.headers['etag']);
    }
    expect(stack.green.callsFor(CHAT)).toBe(1);
  });
});

describe('format from Accept when the URL has no extension', () => {
  it.each([
    ['image/avif,image/webp,*/*', 'image/avif'],
    ['image/webp,*/*;q=0.8', 'image/webp'],
    ['image/png,image/*;q=0.8', 'image/jpeg'],
    ['*/*', 'image/jpeg'],
    ['image/*', 'image/jpeg'],
    ['', 'image/jpeg'],
  ])('Accept "%s" gets %s with Vary: Accept', async (accept, contentType) => {
    const res = await get(stack.url, `/avatar/${CHAT}`, accept ? { Accept: accept } : {});
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(contentType);
    expect(res.headers['vary']).toBe('Accept');
  });

  it('does not send Vary when the URL names the format', async () => {
    const res = await get(stack.url, `/avatar/${USER}.webp`);
    expect(res.headers['vary']).toBeUndefined();
  });
});

describe('with the in-process cache off (MEMORY_CACHE_MB=0)', () => {
  it('serves hits from Redis with the same bytes and ETag, and no upstream call', async () => {
    const redisOnly = await startStack({ env: { MEMORY_CACHE_MB: '0' } });
    try {
      redisOnly.green.set(CHAT, { kind: 'avatar', url: await redisOnly.images.add('alice') });
      const first = await get(redisOnly.url, `/avatar/${USER}.webp`);
      const second = await get(redisOnly.url, `/avatar/${USER}.webp`);
      expect(first.headers['x-cache']).toBe('MISS');
      expect(second.headers['x-cache']).toBe('HIT');
      expect(second.headers['etag']).toBe(first.headers['etag']);
      expect(Buffer.compare(second.body as Buffer, first.body as Buffer)).toBe(0);
      expect((await get(redisOnly.url, `/avatar/${USER}.webp`, { 'If-None-Match': first.headers['etag']! })).status).toBe(304);
      expect((await head(redisOnly.url, `/avatar/${USER}.webp`)).headers['content-length']).toBe(String((first.body as Buffer).length));
      expect(redisOnly.green.callsFor(CHAT)).toBe(1);
    } finally {
      await redisOnly.close();
    }
  });
});
