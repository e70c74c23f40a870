import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/avatar/keys';
import { createAvatarStore, type ContactRecord, type AvatarStore } from '../../src/avatar/store';
import { deletePrefix, REDIS_URL } from '../helpers/stack';

/**
 * Thumbnails live in the answer they show (real Redis): what a request reads is always a rendering of the
 * answer's own picture, whatever order renders and refreshes finish in.
 */
const CHAT = '11000095001@c.us';
const SMALL = { size: 64, format: 'png' } as const;
const hashOf = (n: number) => String(n).repeat(64).slice(0, 64);
const answer = (hash: string): ContactRecord => ({
  status: 'ok',
  url: `https://pps.whatsapp.net/v/${hash.slice(0, 8)}.jpg?oe=ffffffff`,
  hash,
  resolvedAt: 1,
  freshUntil: 2,
  urlExpiresAt: 3,
  lifetime: 4,
  changedAt: 1,
});

let redis: Redis;
let prefix: string;
let store: AvatarStore;
/** The contact's answer, as the store keeps it. */
let metaKey: string;

beforeEach(() => {
  redis = new Redis(REDIS_URL);
  prefix = `test-store-${randomBytes(4).toString('hex')}`;
  store = createAvatarStore(redis, prefix, { imageSeconds: 60 });
  metaKey = createKeys(prefix).meta(CHAT);
});
afterEach(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('thumbnails in the answer', () => {
  it('are read with the answer, and a new picture drops the old one’s', async () => {
    await store.writeMeta(CHAT, answer(hashOf(1)), 60);
    await store.putVariant(CHAT, hashOf(1), SMALL, Buffer.from('drawn from 1'));
    expect((await store.read(CHAT, SMALL)).variant?.toString()).toBe('drawn from 1');

    await store.writeMeta(CHAT, answer(hashOf(2)), 60);
    const read = await store.read(CHAT, SMALL);
    expect(read.meta?.hash).toBe(hashOf(2));
    expect(read.variant).toBeUndefined();
  });

  it('survive a refresh that finds the same picture', async () => {
    await store.writeMeta(CHAT, answer(hashOf(1)), 60);
    await store.putVariant(CHAT, hashOf(1), SMALL, Buffer.from('drawn from 1'));
    await store.writeMeta(CHAT, { ...answer(hashOf(1)), resolvedAt: 10, freshUntil: 20 }, 60);
    const read = await store.read(CHAT, SMALL);
    expect(read.meta?.freshUntil).toBe(20);
    expect(read.variant?.toString()).toBe('drawn from 1');
  });

  it('are not stored when the render finishes after the answer moved on to another picture', async () => {
    await store.writeMeta(CHAT, answer(hashOf(1)), 60);
    await store.writeMeta(CHAT, answer(hashOf(2)), 60);
    await store.putVariant(CHAT, hashOf(1), SMALL, Buffer.from('drawn from 1, late'));
    expect((await store.read(CHAT, SMALL)).variant).toBeUndefined();
    expect(await store.hasVariant(CHAT, hashOf(1), SMALL)).toBe(false);

    await store.putVariant(CHAT, hashOf(2), SMALL, Buffer.from('drawn from 2'));
    expect((await store.read(CHAT, SMALL)).variant?.toString()).toBe('drawn from 2');
    expect(await store.hasVariant(CHAT, hashOf(2), SMALL)).toBe(true);
  });

  it('are not stored for a contact with no answer, and a negative answer shows none', async () => {
    await store.putVariant(CHAT, hashOf(1), SMALL, Buffer.from('orphan'));
    expect(await redis.exists(metaKey)).toBe(0);

    await store.writeMeta(CHAT, answer(hashOf(1)), 60);
    await store.putVariant(CHAT, hashOf(1), SMALL, Buffer.from('drawn from 1'));
    await store.writeMeta(CHAT, { ...answer(''), status: 'no-avatar', url: '' }, 60);
    const read = await store.read(CHAT, SMALL);
    expect(read.meta?.status).toBe('no-avatar');
    expect(read.variant).toBeUndefined();
  });

  it('go with the answer when the contact is forgotten', async () => {
    await store.writeMeta(CHAT, answer(hashOf(1)), 60);
    await store.putVariant(CHAT, hashOf(1), SMALL, Buffer.from('drawn from 1'));
    await store.forget(CHAT);
    expect(await store.read(CHAT, SMALL)).toEqual({ failed: false });
  });
});

describe('the failure marker', () => {
  it('is read with the answer, goes when an answer comes, and never replaces or shortens one', async () => {
    await store.markFailed(CHAT, 30);
    expect(await store.read(CHAT, SMALL)).toEqual({ failed: true });

    await store.writeMeta(CHAT, answer(hashOf(1)), 600);
    await store.putVariant(CHAT, hashOf(1), SMALL, Buffer.from('drawn from 1'));
    expect((await store.read(CHAT, SMALL)).failed).toBe(false);

    // The refresh of a stale answer failed: the answer is still served, for as long as it was kept.
    await store.markFailed(CHAT, 30);
    const read = await store.read(CHAT, SMALL);
    expect(read.meta?.hash).toBe(hashOf(1));
    expect(read.variant?.toString()).toBe('drawn from 1');
    expect(await redis.ttl(metaKey)).toBeGreaterThan(30);
  });
});

describe('a thumbnail of another picture left in the answer', () => {
  it('is never served, whoever wrote the answer (an earlier version keeps the old fields when the picture changes)', async () => {
    await store.writeMeta(CHAT, answer(hashOf(1)), 60);
    await store.putVariant(CHAT, hashOf(1), SMALL, Buffer.from('drawn from 1'));
    // An earlier version writes an answer field by field, without dropping the thumbnails it does not know.
    await redis.hset(metaKey, 'hash', hashOf(2), 'url', answer(hashOf(2)).url);

    const read = await store.read(CHAT, SMALL);
    expect(read.meta?.hash).toBe(hashOf(2));
    expect(read.variant).toBeUndefined();
    expect(await store.hasVariant(CHAT, hashOf(2), SMALL)).toBe(false);
    expect(await store.pictureState(hashOf(2), CHAT, SMALL)).toEqual({ source: false, variant: false, info: false });

    await store.putVariant(CHAT, hashOf(2), SMALL, Buffer.from('drawn from 2'));
    expect((await store.read(CHAT, SMALL)).variant?.toString()).toBe('drawn from 2');
  });
});

describe('what is read of an answer', () => {
  it('is what a request serves, and for the workers the whole answer, link included', async () => {
    const written = { ...answer(hashOf(1)), resolvedAt: 10, freshUntil: 20, urlExpiresAt: 30, lifetime: 40, changedAt: 5 };
    await store.writeMeta(CHAT, written, 60);

    expect((await store.read(CHAT)).meta).toEqual({ status: 'ok', hash: hashOf(1), resolvedAt: 10, freshUntil: 20, changedAt: 5 });
    expect(await store.readMeta(CHAT)).toEqual(written);
  });
});
