import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { createKeys } from '../../src/avatar/keys';
import { createAvatarStore, variantField } from '../../src/avatar/store';
import { startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';
import { renders } from '../helpers/metrics';

/** New sizes and formats of a cached avatar, rendered from its stored source (in the serving process). */
const USER = '11001234567';
const CHAT = `${USER}@c.us`;

let stack: Stack;
let keys: ReturnType<typeof createKeys>;
let hash: string;
/** The picture's source in the durable store. */
const sourceFile = () => join(stack.storageDir, 'sources', hash);

beforeAll(async () => {
  // One sharp slot: at most 4 renders in the serving process, so six new variants at once exceed it.
  stack = await startStack({ env: { RENDER_CONCURRENCY: '1' } });
  stack.green.set(CHAT, { kind: 'avatar', url: await stack.images.add('alice') });
  expect((await get(stack.url, `/avatar/${USER}.webp`)).status).toBe(200);
  keys = createKeys(stack.config.redis.keyPrefix);
  hash = (await stack.redis.hget(keys.meta(CHAT), 'hash'))!;
});
afterAll(() => stack.close());

const side = async (body: Buffer) => (await sharp(body).metadata()).width;

describe('new variants of a cached avatar', () => {
  it('are all served when more are asked at once than the service renders in place, with no upstream call', async () => {
    const sizes = [32, 48, 64, 96, 192, 256];
    const responses = await Promise.all(sizes.map((size) => get(stack.url, `/avatar/${USER}.png?size=${size}`)));
    expect(responses.map((r) => r.status)).toEqual(sizes.map(() => 200));
    expect(await Promise.all(responses.map((r) => side(r.body as Buffer)))).toEqual(sizes);
    expect(stack.green.callsFor(CHAT)).toBe(1);
    expect(stack.images.downloads('alice')).toBe(1);
  });

  it('asked by many at once, are rendered once, and every response has the bytes stored for other processes', async () => {
    const responses = await Promise.all(Array.from({ length: 10 }, () => get(stack.url, `/avatar/${USER}.avif?size=128`)));
    expect(await renders(stack.url, 'avif')).toBe(1);
    const store = createAvatarStore(stack.redis, stack.config.redis.keyPrefix, { imageSeconds: 60 });
    const stored = (await store.read(CHAT, { size: 128, format: 'avif' })).variant;
    expect(stored?.length).toBeGreaterThan(0);
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.headers.etag).toBe(responses[0]!.headers.etag);
      expect(Buffer.compare(response.body as Buffer, stored!)).toBe(0);
    }
  });

  it('are drawn again from the stored source for an answer stored without them (by a version before they lived in it)', async () => {
    const downloads = stack.images.downloads('alice');
    const meta = keys.meta(CHAT);
    const thumbnails = (await stack.redis.hkeys(meta)).filter((field) => /^v\d+:/.test(field));
    expect(thumbnails).toContain(variantField(128, 'webp'));
    await stack.redis.hdel(meta, ...thumbnails);
    // Another URL for the default variant: not this process's memory cache, so Redis is read.
    const res = await get(stack.url, `/avatar/${USER}.webp?size=128`);
    expect(res.status).toBe(200);
    expect(res.headers['x-avatar-status']).toBe('ok');
    expect(await side(res.body as Buffer)).toBe(128);
    expect(await stack.redis.hexists(meta, variantField(128, 'webp'))).toBe(1);
    expect(stack.images.downloads('alice')).toBe(downloads);
    expect(stack.green.callsFor(CHAT)).toBe(1);
  });

  it('fetch a source the durable store lost again through the stored link: one download, no GetAvatar call, for 20 requests at once', async () => {
    rmSync(sourceFile());
    const responses = await Promise.all(Array.from({ length: 20 }, () => get(stack.url, `/avatar/${USER}.jpg?size=384`)));
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    expect(await side(responses[0]!.body as Buffer)).toBe(384);
    expect(stack.images.downloads('alice')).toBe(2);
    expect(stack.green.callsFor(CHAT)).toBe(1);
    expect(readFileSync(sourceFile()).length).toBeGreaterThan(0);
  });

  it('fetch again a stored source whose bytes no longer match its hash (a corrupted disk), and serve the picture', async () => {
    writeFileSync(sourceFile(), 'not an image');
    const res = await get(stack.url, `/avatar/${USER}.webp?size=512`);
    expect(res.headers['x-avatar-status']).toBe('ok');
    expect(await side(res.body as Buffer)).toBe(512);
    expect(stack.images.downloads('alice')).toBe(3);
    expect(stack.green.callsFor(CHAT)).toBe(1);
    expect(readFileSync(sourceFile()).toString()).not.toBe('not an image');
  });
});

describe('new variants with Redis only (STORAGE_URL=none)', () => {
  let redisOnly: Stack;
  beforeAll(async () => {
    redisOnly = await startStack({ env: { STORAGE_URL: 'none' } });
    redisOnly.green.set(CHAT, { kind: 'avatar', url: await redisOnly.images.add('alice') });
    expect((await get(redisOnly.url, `/avatar/${USER}.webp`)).status).toBe(200);
  });
  afterAll(() => redisOnly.close());

  it('answer the error placeholder for a stored source that cannot be rendered, drop it, and fetch it again next time', async () => {
    const redisKeys = createKeys(redisOnly.config.redis.keyPrefix);
    const source = redisKeys.source((await redisOnly.redis.hget(redisKeys.meta(CHAT), 'hash'))!);
    expect(await redisOnly.redis.exists(source)).toBe(1);
    await redisOnly.redis.set(source, Buffer.from('not an image'));
    const failed = await get(redisOnly.url, `/avatar/${USER}.webp?size=512`);
    expect(failed.status).toBe(200);
    expect(failed.headers['x-avatar-status']).toBe('error');
    expect(failed.headers['cache-control']).toBe('no-store');
    expect(redisOnly.logs.some((l) => l.msg === 'render failed' && l.chatId === CHAT && /cannot render source/.test(String(l.err)))).toBe(true);
    expect(await redisOnly.redis.exists(source)).toBe(0);

    const again = await get(redisOnly.url, `/avatar/${USER}.webp?size=512`);
    expect(again.headers['x-avatar-status']).toBe('ok');
    expect(await side(again.body as Buffer)).toBe(512);
    expect(redisOnly.images.downloads('alice')).toBe(2);
    expect(redisOnly.green.callsFor(CHAT)).toBe(1);
  });
});
