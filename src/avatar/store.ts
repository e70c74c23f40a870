import { isCluster, type RedisClient } from '../redis';
import { createRecordChanges } from '../records/record-changes';
import { systemClock, type Clock } from '../clock';
import { createKeys } from './keys';
import type { PictureInfo } from '../images/picture-info';
import { PIPELINE_VERSION } from '../images/render';
import type { Format } from './variant';

/*
 * Three things, named apart everywhere: a **reply** is what Green API answered to one GetAvatar call
 * (greenapi/answer.ts classifies it: AvatarReply); a **record** is what is kept for a contact (ContactRecord,
 * written by the resolve step only, cached in Redis under `meta:{chatId}` with its thumbnails, kept for good in
 * the durable store); a **response** is what one HTTP request is sent (avatar/response.ts), kept in a process's
 * memory for hits.
 */

/**
 * A record's status: what GetAvatar said about a chatId. `private`: on WhatsApp, but privacy settings hide the
 * picture from this instance (`available: false`).
 */
export const RECORD_STATUSES = ['ok', 'no-avatar', 'private', 'not-on-whatsapp'] as const;
export type RecordStatus = (typeof RECORD_STATUSES)[number];

/** What is kept for a contact: written by the resolve step only. */
export interface ContactRecord {
  status: RecordStatus;
  /** urlAvatar; empty when there is no avatar. */
  url: string;
  /** sha256 of the source image; empty when there is no avatar. */
  hash: string;
  resolvedAt: number;
  /** Until then the answer is fresh; afterwards it is served stale while a refresh runs. */
  freshUntil: number;
  /** The signed url must not be used after this (its `oe=`); 0 when there is no url. */
  urlExpiresAt: number;
  /** Seconds this answer was given to be fresh (see avatar/freshness): doubles while nothing changes. */
  lifetime: number;
  /** When the answer last changed (a new picture, or a different status). */
  changedAt: number;
}

/**
 * What requests need of an answer: what to serve (status, picture), until when it is fresh, which resolve it
 * came from and when it last changed. The link and its lifetime are the workers' (see readMeta).
 */
export type ServedRecord = Pick<ContactRecord, 'status' | 'hash' | 'resolvedAt' | 'freshUntil' | 'changedAt'>;

/** What requests need of a record, the workers' fields left out: what a resolve job hands to the requests waiting for it. */
export function servedPart({ status, hash, resolvedAt, freshUntil, changedAt }: ServedRecord): ServedRecord {
  return { status, hash, resolvedAt, freshUntil, changedAt };
}

/** A served record that came through a job's return value (JSON in Redis): checked, or undefined. */
export function servedFrom(value: unknown): ServedRecord | undefined {
  const record = value as Partial<ServedRecord> | undefined;
  if (!record || !(RECORD_STATUSES as readonly unknown[]).includes(record.status)) return undefined;
  const numbers = [record.resolvedAt, record.freshUntil, record.changedAt];
  if (typeof record.hash !== 'string' || !numbers.every((n) => typeof n === 'number' && Number.isFinite(n))) return undefined;
  return servedPart(record as ServedRecord);
}

/** What background work (warming, keep-fresh) needs of a contact's record: is it fresh, since when, how long it lives. */
export type RecordFreshness = Pick<ContactRecord, 'status' | 'resolvedAt' | 'freshUntil' | 'lifetime'>;

export interface AvatarRead {
  meta?: ServedRecord;
  variant?: Buffer;
  /** No answer, and the last resolve failed recently (see markFailed). */
  failed: boolean;
}

export interface StoreTtl {
  /** Lifetime of sources and pictures' info (a picture's answer, with its variants, is kept as long). */
  imageSeconds: number;
}

/**
 * The answer's fields a request reads, in the order toServed reads them. Every request not served from memory
 * reads them, and each field costs the client's reply decoder a value: the link (the longest) and its lifetime
 * are left to the workers, which read the rest after them (WORKER_FIELDS).
 */
const SERVED_FIELDS = ['status', 'hash', 'resolvedAt', 'freshUntil', 'changedAt'] as const;
const WORKER_FIELDS = ['urlExpiresAt', 'lifetime', 'url'] as const;
const FRESHNESS_FIELDS = ['status', 'resolvedAt', 'freshUntil', 'lifetime'] as const;
/**
 * Set in a chatId's `meta` hash that holds no answer while its last resolve failed recently (see markFailed):
 * a miss learns it in the same HMGET as the answer.
 */
const FAILED_FIELD = 'failed';

/**
 * The field of a chatId's answer (its `meta` hash) that holds a variant of the answer's picture. Variants live
 * in the answer they show: a hit is one plain HMGET (the Lua script that followed the answer's hash to a
 * variant key cost Redis 6.7 µs a hit, the HMGET 1.6), in one slot on a cluster, and they go when the answer
 * goes. Named by the pipeline version, so a new version's ETag never fronts bytes an older one drew.
 */
export const variantField = (size: number, format: Format): string => `v${PIPELINE_VERSION}:${size}:${format}`;

/**
 * A variant is stored behind the first characters of its picture's hash, and served only under an answer that
 * shows that picture: whoever wrote the answer (an earlier version that kept the fields of the picture before,
 * during a rolling deploy) or the variant (a render that raced a change), a contact never shows another
 * picture's thumbnail.
 */
const TAG_LENGTH = 16;

/** What is stored for a variant of picture `hash`. */
export const storedVariant = (hash: string, bytes: Buffer): Buffer => Buffer.concat([Buffer.from(hash.slice(0, TAG_LENGTH), 'latin1'), bytes]);

/** A stored variant's bytes, when it is of picture `hash`. */
function variantOf(stored: Buffer | null | undefined, hash: string): Buffer | undefined {
  if (!stored || stored.length <= TAG_LENGTH || stored.toString('latin1', 0, TAG_LENGTH) !== hash.slice(0, TAG_LENGTH)) return undefined;
  return stored.subarray(TAG_LENGTH);
}

/**
 * A record put back from the durable store, unless one was written meanwhile (a resolve is newer). KEYS: meta;
 * ARGV: ttl, then field, value...
 */
const RESTORE_LUA = `
if redis.call('HEXISTS', KEYS[1], 'status') == 1 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`;

/**
 * Writes an answer's fields, dropping the hash first when it held another picture (its variants are that
 * picture's) or no answer (a failure marker). KEYS: meta; ARGV: ttl, hash, then field, value...
 */
const WRITE_ANSWER_LUA = `
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[2] then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[1])
`;

/** Marks a failed resolve where there is no answer (a stale one is served meanwhile). KEYS: meta; ARGV: ttl. */
const MARK_FAILED_LUA = `
if redis.call('HEXISTS', KEYS[1], 'status') == 1 then return 0 end
redis.call('HSET', KEYS[1], '${FAILED_FIELD}', '1')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`;

/**
 * Adds a variant to an answer only while the answer still shows the picture it was drawn from (a render may
 * finish after the picture changed). KEYS: meta; ARGV: hash, field, bytes. 1 when stored.
 */
const PUT_VARIANT_LUA = `
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1
`;

export interface VariantName {
  size: number;
  format: Format;
}

/** What is stored of a new picture: its source, and its default variant and info when they are not stored yet. */
export interface NewPicture {
  /** Left out of Redis where the durable store holds it. */
  source?: Buffer;
  variant?: VariantName & { bytes: Buffer };
  info?: PictureInfo;
}

/** Whether a picture's source and info are stored, and its default variant in the chatId's answer. */
export interface PictureState {
  source: boolean;
  variant: boolean;
  info: boolean;
}

/** An answer to write, and how long it is kept. */
export interface RecordWrite {
  chatId: string;
  meta: ContactRecord;
  ttlSeconds: number;
}

export interface AvatarStore {
  /** The answer, and the variant of its picture it holds when one is named (the JSON info needs no image bytes). */
  read(chatId: string, variant?: VariantName): Promise<AvatarRead>;
  readMeta(chatId: string): Promise<ContactRecord | undefined>;
  /**
   * The freshness of many records as Redis holds them (one round trip: ioredis writes the reads back to back). A
   * record only the durable store holds reads as missing: its lookup then finds it there, with no upstream call.
   */
  freshness(chatIds: string[]): Promise<(RecordFreshness | undefined)[]>;
  writeMeta(chatId: string, meta: ContactRecord, ttlSeconds: number): Promise<void>;
  markFailed(chatId: string, ttlSeconds: number): Promise<void>;
  /**
   * Drops the answer, its thumbnails and the failure marker (sources stay: other contacts may share them), and
   * tells every API process to drop its copies.
   */
  forget(chatId: string): Promise<void>;
  getSource(hash: string): Promise<Buffer | null>;
  getInfo(hash: string): Promise<PictureInfo | undefined>;
  deleteSource(hash: string): Promise<void>;
  /** What is stored of a picture: its source, its info, and a variant (the default one) in chatId's answer. One round trip. */
  pictureState(hash: string, chatId: string, variant: VariantName): Promise<PictureState>;
  /**
   * A picture's source and info when new, its default variant into chatId's answer, and that answer when one
   * is given (written after the picture, never without it): one round trip on one Redis.
   */
  putPicture(hash: string, picture: NewPicture, to: RecordWrite | { chatId: string }): Promise<void>;
  /** Whether chatId's answer shows the picture `hash` and holds that variant of it. */
  hasVariant(chatId: string, hash: string, variant: VariantName): Promise<boolean>;
  /** Adds a variant to chatId's answer, unless the answer moved on to another picture meanwhile. */
  putVariant(chatId: string, hash: string, variant: VariantName, bytes: Buffer): Promise<void>;
}

/** What only the durable tier asks of the Redis tier: to be filled again from it. */
export interface RedisAvatarStore extends AvatarStore {
  /** A record and variants of its picture, unless Redis has a record for chatId (a newer one). */
  restore(to: RecordWrite, variants: (VariantName & { bytes: Buffer })[]): Promise<void>;
  putInfo(hash: string, info: PictureInfo): Promise<void>;
}

type RedisCommand = [name: string, ...args: (string | number | Buffer)[]];

/**
 * Commands in one round trip (a pipeline), or, on a cluster where the keys live in different slots and a
 * pipeline would be refused, as separate commands at once.
 */
async function sendTogether(redis: RedisClient, commands: RedisCommand[]): Promise<void> {
  if (isCluster(redis)) {
    await Promise.all(commands.map((command) => redis.call(...command)));
    return;
  }
  throwFirstError(await redis.pipeline(commands).exec());
}

/** Commands in one round trip that Redis runs together, in order (keys in one slot, or one standalone Redis). */
async function transaction(redis: RedisClient, commands: RedisCommand[]): Promise<void> {
  throwFirstError(await redis.multi(commands).exec());
}

function throwFirstError(results: [Error | null, unknown][] | null): void {
  for (const [err] of results ?? []) if (err) throw err;
}

const text = (field: string | Buffer | null | undefined): string | undefined => (field == null ? undefined : String(field));

/** An answer from an HMGET of SERVED_FIELDS (and more fields after them, which it leaves alone). */
function toServed(reply: (string | Buffer | null)[]): ServedRecord | undefined {
  const [status, hash, resolvedAt, freshUntil, changedAt] = reply.slice(0, SERVED_FIELDS.length).map(text);
  if (!(RECORD_STATUSES as readonly (string | undefined)[]).includes(status)) return undefined;
  return {
    status: status as RecordStatus,
    hash: hash ?? '',
    resolvedAt: Number(resolvedAt) || 0,
    freshUntil: Number(freshUntil) || 0,
    changedAt: Number(changedAt) || Number(resolvedAt) || 0,
  };
}

/** The whole answer from an HMGET of SERVED_FIELDS, then WORKER_FIELDS. */
function toMeta(reply: (string | null)[]): ContactRecord | undefined {
  const served = toServed(reply);
  if (!served) return undefined;
  const [urlExpiresAt, lifetime, url] = reply.slice(SERVED_FIELDS.length).map(text);
  return { ...served, url: url ?? '', urlExpiresAt: Number(urlExpiresAt) || 0, lifetime: Number(lifetime) || 0 };
}

/** The scripts as defineCommand adds them (the answer's is sent in transactions, by name). */
interface StoreScripts {
  putVariant(meta: string, hash: string, field: string, bytes: Buffer): Promise<number>;
  markFailed(meta: string, ttlSeconds: number): Promise<number>;
  restoreAnswer(meta: string, ttlSeconds: number, ...fields: (string | number | Buffer)[]): Promise<number>;
}

export function createAvatarStore(redis: RedisClient, keyPrefix: string, ttl: StoreTtl, clock: Clock = systemClock): RedisAvatarStore {
  const changes = createRecordChanges(redis, keyPrefix);
  const keys = createKeys(keyPrefix);
  if (!('writeAnswer' in redis)) {
    redis.defineCommand('writeAnswer', { numberOfKeys: 1, lua: WRITE_ANSWER_LUA });
    redis.defineCommand('putVariant', { numberOfKeys: 1, lua: PUT_VARIANT_LUA });
    redis.defineCommand('markFailed', { numberOfKeys: 1, lua: MARK_FAILED_LUA });
    redis.defineCommand('restoreAnswer', { numberOfKeys: 1, lua: RESTORE_LUA });
  }
  const scripts = redis as unknown as StoreScripts;

  /**
   * An answer with its lifetime (and the default variant of its picture, when given), in place of a failure
   * marker: one script on one key.
   */
  const answerCommand = ({ chatId, meta, ttlSeconds }: RecordWrite, variant?: NewPicture['variant']): RedisCommand => {
    const fields: (string | number | Buffer)[] = Object.entries(meta).flat();
    if (variant) fields.push(variantField(variant.size, variant.format), storedVariant(meta.hash, variant.bytes));
    return ['writeAnswer', keys.meta(chatId), ttlSeconds, meta.hash, ...fields];
  };

  const infoCommands = (hash: string, info: PictureInfo): RedisCommand[] => [
    ['hset', keys.info(hash), ...Object.entries(info).flat()],
    ['expire', keys.info(hash), ttl.imageSeconds],
  ];

  async function heldVariant(chatId: string, hash: string, { size, format }: VariantName): Promise<boolean> {
    const [shown, held] = await redis.hmgetBuffer(keys.meta(chatId), 'hash', variantField(size, format));
    return shown?.toString() === hash && variantOf(held, hash) !== undefined;
  }

  async function putVariant(chatId: string, hash: string, { size, format }: VariantName, bytes: Buffer): Promise<void> {
    await scripts.putVariant(keys.meta(chatId), hash, variantField(size, format), storedVariant(hash, bytes));
  }

  return {
    async read(chatId, wanted) {
      const reply = await redis.hmgetBuffer(keys.meta(chatId), ...SERVED_FIELDS, FAILED_FIELD, ...(wanted ? [variantField(wanted.size, wanted.format)] : []));
      const meta = toServed(reply);
      if (!meta) return { failed: reply[SERVED_FIELDS.length] !== null };
      return { meta, variant: meta.status === 'ok' ? variantOf(reply[SERVED_FIELDS.length + 1], meta.hash) : undefined, failed: false };
    },

    async readMeta(chatId) {
      return toMeta(await redis.hmget(keys.meta(chatId), ...SERVED_FIELDS, ...WORKER_FIELDS));
    },

    async freshness(chatIds) {
      const replies = await Promise.all(chatIds.map((chatId) => redis.hmget(keys.meta(chatId), ...FRESHNESS_FIELDS)));
      return replies.map(([status, resolvedAt, freshUntil, lifetime]) =>
        (RECORD_STATUSES as readonly (string | null)[]).includes(status)
          ? { status: status as RecordStatus, resolvedAt: Number(resolvedAt) || 0, freshUntil: Number(freshUntil) || 0, lifetime: Number(lifetime) || 0 }
          : undefined,
      );
    },

    writeMeta: (chatId, meta, ttlSeconds) => transaction(redis, [answerCommand({ chatId, meta, ttlSeconds })]),

    async markFailed(chatId, ttlSeconds) {
      if (ttlSeconds > 0) await scripts.markFailed(keys.meta(chatId), ttlSeconds);
    },

    async forget(chatId) {
      await redis.del(keys.meta(chatId));
      await changes.announce(chatId, clock());
    },

    getSource: (hash) => redis.getBuffer(keys.source(hash)),

    async getInfo(hash) {
      const fields = await redis.hgetall(keys.info(hash));
      if (!fields.color) return undefined;
      return { color: fields.color, thumbhash: fields.thumbhash ?? '', placeholder: fields.placeholder ?? '', width: Number(fields.width), height: Number(fields.height) };
    },

    async deleteSource(hash) {
      await redis.del(keys.source(hash));
    },

    async pictureState(hash, chatId, variant) {
      const [source, info, held] = await Promise.all([
        redis.exists(keys.source(hash)),
        redis.exists(keys.info(hash)),
        heldVariant(chatId, hash, variant),
      ]);
      return { source: source === 1, variant: held, info: info === 1 };
    },

    async putPicture(hash, { source, variant, info }, to) {
      const commands: RedisCommand[] = source ? [['set', keys.source(hash), source, 'EX', ttl.imageSeconds]] : [];
      if (info) commands.push(...infoCommands(hash, info));
      if (!('meta' in to)) {
        await sendTogether(redis, commands);
        if (variant) await putVariant(to.chatId, hash, variant, variant.bytes);
        return;
      }
      // On a cluster the answer lives in another slot than the picture: written once the picture is.
      if (isCluster(redis)) {
        await sendTogether(redis, commands);
        return transaction(redis, [answerCommand(to, variant)]);
      }
      await transaction(redis, [...commands, answerCommand(to, variant)]);
    },

    hasVariant: heldVariant,

    putVariant,

    async restore({ chatId, meta, ttlSeconds }, variants) {
      const fields: (string | number | Buffer)[] = Object.entries(meta).flat();
      for (const { size, format, bytes } of variants) fields.push(variantField(size, format), storedVariant(meta.hash, bytes));
      await scripts.restoreAnswer(keys.meta(chatId), ttlSeconds, ...fields);
    },

    async putInfo(hash, info) {
      await sendTogether(redis, infoCommands(hash, info));
    },
  };
}
