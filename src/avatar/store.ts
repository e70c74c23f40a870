import { isCluster, type RedisClient } from '../redis';
import { createKeys } from './keys';
import type { PictureInfo } from '../images/picture-info';
import type { Format } from './variant';

/**
 * What GetAvatar said about a chatId, as the cache keeps it. `private`: on WhatsApp, but privacy settings
 * hide the picture from this instance (`available: false`).
 */
export const ANSWER_STATUSES = ['ok', 'no-avatar', 'private', 'not-on-whatsapp'] as const;
export type AnswerStatus = (typeof ANSWER_STATUSES)[number];

export interface AvatarMeta {
  status: AnswerStatus;
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

export interface AvatarRead {
  meta?: AvatarMeta;
  variant?: Buffer;
  /** No answer, and the last resolve failed recently (see markFailed). */
  failed: boolean;
}

export interface StoreTtl {
  /** Lifetime of sources and variants, extended when read. */
  imageSeconds: number;
}

/**
 * The answer's fields, in the order toMeta reads them. Status first (the read script tests it); the url last:
 * the only free text, so a newline in it cannot shift the others in the read script's joined reply.
 */
const META_FIELDS = ['status', 'hash', 'resolvedAt', 'freshUntil', 'urlExpiresAt', 'lifetime', 'changedAt', 'url'] as const;
/** The hash's place in the read script's HMGET reply (Lua counts from 1). */
const HASH_AT = META_FIELDS.indexOf('hash') + 1;

/**
 * One round trip for the request path: the meta hash, and the variant it points to (or, with no meta,
 * whether the last resolve failed). A variant read with less than half its lifetime left is extended, so
 * popular images outlive their cached answer. The answer's fields come back as one string (newline-joined):
 * three reply elements instead of ten, so each hit parses and allocates less.
 */
const READ_AVATAR_LUA = `
local m = redis.call('HMGET', KEYS[1], ${META_FIELDS.map((f) => `'${f}'`).join(', ')})
if not m[1] then
  return {false, false, redis.call('EXISTS', KEYS[2])}
end
local v = false
if m[${HASH_AT}] and m[${HASH_AT}] ~= '' and ARGV[2] ~= '' then
  local vk = ARGV[1] .. m[${HASH_AT}] .. ARGV[2]
  v = redis.call('GET', vk)
  if v and redis.call('TTL', vk) < tonumber(ARGV[3]) / 2 then
    redis.call('EXPIRE', vk, ARGV[3])
  end
end
for i = 1, #m do
  if not m[i] then m[i] = '' end
end
return {table.concat(m, '\\n'), v, 0}
`;

/** The answer's fields (newline-joined, or null), the variant, and 1 when a recent resolve failed. */
type ReadAvatarCommand = (
  metaKey: string,
  failureKey: string,
  variantPrefix: string,
  variantSuffix: string,
  imageTtl: number,
) => Promise<[Buffer | null, Buffer | null, number]>;

export interface VariantName {
  size: number;
  format: Format;
}

/** What is stored of a new picture: its source, and its default variant and info when they are not stored yet. */
export interface NewPicture {
  source: Buffer;
  variant?: VariantName & { bytes: Buffer };
  info?: PictureInfo;
}

/** Whether a picture's source, a variant of it and its info are stored. */
export interface PictureState {
  source: boolean;
  variant: boolean;
  info: boolean;
}

/** An answer to write, and how long it is kept. */
export interface AnswerWrite {
  chatId: string;
  meta: AvatarMeta;
  ttlSeconds: number;
}

export interface AvatarStore {
  /** The answer, and the variant it points to when one is named (the JSON info needs no image bytes). */
  read(chatId: string, variant?: VariantName): Promise<AvatarRead>;
  readMeta(chatId: string): Promise<AvatarMeta | undefined>;
  writeMeta(chatId: string, meta: AvatarMeta, ttlSeconds: number): Promise<void>;
  markFailed(chatId: string, ttlSeconds: number): Promise<void>;
  /** Drops the answer and the failure marker (pictures stay: other contacts may share them). */
  forget(chatId: string): Promise<void>;
  getSource(hash: string): Promise<Buffer | null>;
  getInfo(hash: string): Promise<PictureInfo | undefined>;
  deleteSource(hash: string): Promise<void>;
  /** What is stored of a picture: its source, a variant (the default one), its info. One round trip. */
  pictureState(hash: string, variant: VariantName): Promise<PictureState>;
  /**
   * A picture's source, with its default variant and info when they are new, and the answer that points to it
   * when one is given (written after the picture, never without it): one round trip on one Redis.
   */
  putPicture(hash: string, picture: NewPicture, answer?: AnswerWrite): Promise<void>;
  hasVariant(hash: string, size: number, format: Format): Promise<boolean>;
  putVariant(hash: string, size: number, format: Format, bytes: Buffer): Promise<void>;
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

/** The read script's newline-joined fields; whatever follows the last fixed field is the url, newlines and all. */
function splitJoined(joined: string): string[] {
  const fields = joined.split('\n');
  if (fields.length > META_FIELDS.length) fields.push(fields.splice(META_FIELDS.length - 1).join('\n'));
  return fields;
}

function toMeta(fields: (string | Buffer | null | undefined)[]): AvatarMeta | undefined {
  const [status, hash, resolvedAt, freshUntil, urlExpiresAt, lifetime, changedAt, url] = fields.map((f) => (f == null ? undefined : String(f)));
  if (!(ANSWER_STATUSES as readonly (string | undefined)[]).includes(status)) return undefined;
  return {
    status: status as AnswerStatus,
    url: url ?? '',
    hash: hash ?? '',
    resolvedAt: Number(resolvedAt) || 0,
    freshUntil: Number(freshUntil) || 0,
    urlExpiresAt: Number(urlExpiresAt) || 0,
    lifetime: Number(lifetime) || 0,
    changedAt: Number(changedAt) || Number(resolvedAt) || 0,
  };
}

export function createAvatarStore(redis: RedisClient, keyPrefix: string, ttl: StoreTtl): AvatarStore {
  const keys = createKeys(keyPrefix);

  /** An answer with its lifetime, and no failure marker left beside it (one slot: the chatId's hash tag). */
  const answerCommands = ({ chatId, meta, ttlSeconds }: AnswerWrite): RedisCommand[] => [
    ['hset', keys.meta(chatId), ...Object.entries(meta).flat()],
    ['expire', keys.meta(chatId), ttlSeconds],
    ['del', keys.failure(chatId)],
  ];

  if (!('readAvatarBuffer' in redis)) {
    redis.defineCommand('readAvatar', { numberOfKeys: 2, lua: READ_AVATAR_LUA });
  }
  const readAvatar = (redis as unknown as { readAvatarBuffer: ReadAvatarCommand }).readAvatarBuffer.bind(redis);

  /** On a cluster the variant lives in another slot than the answer: two round trips instead of the script. */
  async function readInTwoSteps(chatId: string, wanted?: VariantName): Promise<AvatarRead> {
    const [fields, failed] = await Promise.all([redis.hmget(keys.meta(chatId), ...META_FIELDS), redis.exists(keys.failure(chatId))]);
    const meta = toMeta(fields);
    if (!meta?.hash || !wanted) return { meta, failed: !meta && failed === 1 };
    const key = keys.variant(meta.hash, wanted.size, wanted.format);
    const [variant, ttlLeft] = await Promise.all([redis.getBuffer(key), redis.ttl(key)]);
    if (variant && ttlLeft < ttl.imageSeconds / 2) await redis.expire(key, ttl.imageSeconds);
    return { meta, variant: variant ?? undefined, failed: false };
  }

  return {
    async read(chatId, wanted) {
      if (isCluster(redis)) return readInTwoSteps(chatId, wanted);
      // An empty suffix tells the script not to read a variant.
      const suffix = wanted ? `:${wanted.size}:${wanted.format}` : '';
      const [fields, variant, failed] = await readAvatar(keys.meta(chatId), keys.failure(chatId), keys.variantPrefix, suffix, ttl.imageSeconds);
      return { meta: fields ? toMeta(splitJoined(fields.toString())) : undefined, variant: variant ?? undefined, failed: failed === 1 };
    },

    async readMeta(chatId) {
      return toMeta(await redis.hmget(keys.meta(chatId), ...META_FIELDS));
    },

    writeMeta: (chatId, meta, ttlSeconds) => transaction(redis, answerCommands({ chatId, meta, ttlSeconds })),

    async markFailed(chatId, ttlSeconds) {
      if (ttlSeconds > 0) await redis.set(keys.failure(chatId), '1', 'EX', ttlSeconds);
    },

    async forget(chatId) {
      // Same slot (hash tag): one command on a cluster too.
      await redis.del(keys.meta(chatId), keys.failure(chatId));
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

    async pictureState(hash, { size, format }) {
      const found = await Promise.all([keys.source(hash), keys.variant(hash, size, format), keys.info(hash)].map((key) => redis.exists(key)));
      return { source: found[0] === 1, variant: found[1] === 1, info: found[2] === 1 };
    },

    async putPicture(hash, { source, variant, info }, answer) {
      const commands: RedisCommand[] = [['set', keys.source(hash), source, 'EX', ttl.imageSeconds]];
      if (variant) commands.push(['set', keys.variant(hash, variant.size, variant.format), variant.bytes, 'EX', ttl.imageSeconds]);
      if (info) commands.push(['hset', keys.info(hash), ...Object.entries(info).flat()], ['expire', keys.info(hash), ttl.imageSeconds]);
      if (!answer) return sendTogether(redis, commands);
      // On a cluster the answer lives in another slot than the picture: written once the picture is.
      if (isCluster(redis)) {
        await sendTogether(redis, commands);
        return transaction(redis, answerCommands(answer));
      }
      await transaction(redis, [...commands, ...answerCommands(answer)]);
    },

    async hasVariant(hash, size, format) {
      return (await redis.exists(keys.variant(hash, size, format))) === 1;
    },

    async putVariant(hash, size, format, bytes) {
      await redis.set(keys.variant(hash, size, format), bytes, 'EX', ttl.imageSeconds);
    },
  };
}
