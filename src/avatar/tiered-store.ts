import { AppError } from '../errors';
import { sha256 } from '../images/render';
import type { Logger } from '../logger';
import type { DurableAvatars } from '../storage/durable-avatars';
import type { WriteRetries } from '../storage/write-retries';
import type { ContactRecord, AvatarRead, AvatarStore, RedisAvatarStore, VariantName } from './store';

export interface TieredStoreDeps {
  redis: RedisAvatarStore;
  durable: DurableAvatars;
  retries: WriteRetries;
  /** How long Redis keeps a record put back from the durable store (as when it was written). */
  keepSeconds(meta: ContactRecord): number;
  /** The variant every picture has: put back into Redis with its record. */
  defaultVariant: VariantName;
  logger: Logger;
}

const sameVariant = (a: VariantName, b: VariantName) => a.size === b.size && a.format === b.format;

/**
 * The two tiers as one AvatarStore: Redis caches records and thumbnails (one HMGET for a hit), the durable store
 * keeps sources, thumbnails, info and records for good. Writes go to the durable store first (blobs, then the
 * record that points at them), then to Redis; a record Redis lost is read from the durable store and put back,
 * so a flushed Redis costs no GetAvatar call and no download. While the durable store fails, Redis serves and
 * keeps the sources, and the durable writes are tried again in the background.
 */
export function createTieredStore({ redis, durable, retries, keepSeconds, defaultVariant, logger }: TieredStoreDeps): AvatarStore {
  /** Put-backs in flight, by chatId and variant: concurrent misses of one contact read the durable store once. */
  const restoring = new Map<string, Promise<ContactRecord | undefined>>();

  /** A durable write now, or, when the store fails, again later in the background; whether it was written now. */
  async function persist(name: string, write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch {
      retries.later(name, write);
      return false;
    }
  }

  /** A durable read that fails counts as missing: the caller falls back to what it does without the store. */
  const orMissing = <T>(read: Promise<T>): Promise<T | undefined> =>
    read.catch((err: Error) => {
      logger.debug({ err: err.message }, 'storage: read failed');
      return undefined;
    });

  /** chatId's durable record put back into Redis with its default variant and `wanted`; the record, if any. */
  async function putBack(chatId: string, wanted: VariantName | undefined, found: (variant: Buffer | undefined) => void): Promise<ContactRecord | undefined> {
    const record = await orMissing(durable.readRecord(chatId));
    if (!record) return undefined;
    const names = record.status !== 'ok' ? [] : wanted && !sameVariant(wanted, defaultVariant) ? [defaultVariant, wanted] : [defaultVariant];
    const bytes = await Promise.all(names.map((variant) => orMissing(durable.getVariant(record.hash, variant))));
    const variants = names.flatMap((variant, i) => (bytes[i] ? [{ ...variant, bytes: bytes[i] }] : []));
    if (wanted) found(variants.find((variant) => sameVariant(variant, wanted))?.bytes);
    await redis.restore({ chatId, meta: record, ttlSeconds: keepSeconds(record) }, variants);
    return record;
  }

  /** The durable record (and `wanted` of its picture), put back into Redis: once per chatId and variant at a time. */
  async function restore(chatId: string, wanted?: VariantName): Promise<{ record?: ContactRecord; variant?: Buffer }> {
    const key = wanted ? `${chatId} ${wanted.size} ${wanted.format}` : chatId;
    let variant: Buffer | undefined;
    let running = restoring.get(key);
    if (running) {
      const record = await running;
      // The put-back wrote the variant into Redis: read it there.
      return { record, variant: record && wanted ? (await redis.read(chatId, wanted)).variant : undefined };
    }
    running = putBack(chatId, wanted, (bytes) => (variant = bytes)).finally(() => restoring.delete(key));
    restoring.set(key, running);
    return { record: await running, variant };
  }

  return {
    async read(chatId, wanted): Promise<AvatarRead> {
      const read = await redis.read(chatId, wanted);
      if (read.meta || read.failed) return read;
      const { record, variant } = await restore(chatId, wanted);
      return record ? { meta: record, variant: record.status === 'ok' ? variant : undefined, failed: false } : read;
    },

    async readMeta(chatId) {
      return (await redis.readMeta(chatId)) ?? (await restore(chatId)).record;
    },

    freshness: (chatIds) => redis.freshness(chatIds),

    async writeMeta(chatId, meta, ttlSeconds) {
      await persist(`record ${chatId}`, () => durable.writeRecord(chatId, meta));
      await redis.writeMeta(chatId, meta, ttlSeconds);
    },

    markFailed: (chatId, ttlSeconds) => redis.markFailed(chatId, ttlSeconds),

    async forget(chatId) {
      // Served no more at once; then every durable copy. A failure fails the request: erasure is not done.
      await redis.forget(chatId);
      try {
        await durable.erase(chatId);
      } catch {
        throw new AppError(503, 'storage_unavailable', 'forgotten in Redis, but the durable store could not erase the contact: try again', { 'Retry-After': '30' });
      }
    },

    async getSource(hash) {
      const stored = await orMissing(durable.getSource(hash));
      if (stored) return stored;
      // Kept in Redis by an earlier version, or while the durable store failed: moved on first use.
      const cached = await redis.getSource(hash);
      if (!cached) return null;
      if (sha256(cached) !== hash) {
        await redis.deleteSource(hash);
        return null;
      }
      void persist(`source ${hash}`, () => durable.putSource(hash, cached)).then((moved) => (moved ? redis.deleteSource(hash) : undefined)).catch(() => undefined);
      return cached;
    },

    async getInfo(hash) {
      const cached = await redis.getInfo(hash);
      if (cached) return cached;
      const stored = await orMissing(durable.getInfo(hash));
      if (stored) await redis.putInfo(hash, stored);
      return stored;
    },

    async deleteSource(hash) {
      await Promise.all([redis.deleteSource(hash), durable.deleteSource(hash)]);
    },

    async pictureState(hash, chatId, variant) {
      const state = await redis.pictureState(hash, chatId, variant);
      const [source, info] = await Promise.all([
        state.source || orMissing(durable.hasSource(hash)),
        state.info || orMissing(durable.hasInfo(hash)),
      ]);
      return { ...state, source: source === true, info: info === true };
    },

    async putPicture(hash, picture, to) {
      const { source, info, variant } = picture;
      const persisted = await persist(`picture ${hash} ${to.chatId}`, async () => {
        // The blobs at once (each its own name: a cold miss waited for them one after another), the record after them.
        await Promise.all([source && durable.putSource(hash, source), info && durable.putInfo(hash, info), variant && durable.putVariant(hash, variant, variant.bytes)]);
        if ('meta' in to) await durable.writeRecord(to.chatId, to.meta);
      });
      // The source stays out of Redis once the durable store has it.
      await redis.putPicture(hash, persisted ? { ...picture, source: undefined } : picture, to);
    },

    async hasVariant(chatId, hash, variant) {
      if (await redis.hasVariant(chatId, hash, variant)) return true;
      const stored = await orMissing(durable.getVariant(hash, variant));
      if (!stored) return false;
      await redis.putVariant(chatId, hash, variant, stored);
      return redis.hasVariant(chatId, hash, variant);
    },

    async putVariant(chatId, hash, variant, bytes) {
      await persist(`variant ${hash} ${variant.size} ${variant.format}`, () => durable.putVariant(hash, variant, bytes));
      await redis.putVariant(chatId, hash, variant, bytes);
    },
  };
}
