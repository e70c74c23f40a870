import { createHmac, randomBytes } from 'node:crypto';
import { RECORD_STATUSES, type ContactRecord } from '../avatar/store';
import type { VariantName } from '../avatar/store';
import type { PictureInfo } from '../images/picture-info';
import { PIPELINE_VERSION, sha256 } from '../images/render';
import type { BlobStore } from './blob-store';

/**
 * What the durable tier holds, and the name of each blob (under the store's root and KEY_PREFIX):
 *
 *   naming-key                      32 random bytes: contacts' records are named by an HMAC of the chatId with it
 *   records/<contact>.json          a contact's record (status, picture hash, link, when resolved, lifetime, changed)
 *   users/<hash>/<contact>          "this contact's record shows picture <hash>": a picture goes with its last user
 *   sources/<hash>                  a downloaded picture, named by the SHA-256 of its bytes (written once)
 *   info/<hash>.json                its colour, ThumbHash and blur-up
 *   variants/<hash>/v<pipeline>-<size>.<format>   a thumbnail: the SHA-256 of its bytes, then the bytes
 *
 * Every blob is checked when read: a source must hash to its name, a thumbnail to its stored digest, a record or
 * info must parse; anything else is removed and treated as missing (fetched or rendered again).
 */
export interface DurableAvatars {
  readRecord(chatId: string): Promise<ContactRecord | undefined>;
  /**
   * chatId's record, after the reference to the picture it shows; a picture it no longer shows loses this
   * contact's reference and is removed when no other contact has one.
   */
  writeRecord(chatId: string, meta: ContactRecord): Promise<void>;
  /** chatId's record, and every blob of its picture that no other contact uses. */
  erase(chatId: string): Promise<void>;
  getSource(hash: string): Promise<Buffer | undefined>;
  hasSource(hash: string): Promise<boolean>;
  /** Written once: a picture already stored is not sent again. */
  putSource(hash: string, bytes: Buffer): Promise<void>;
  deleteSource(hash: string): Promise<void>;
  getInfo(hash: string): Promise<PictureInfo | undefined>;
  hasInfo(hash: string): Promise<boolean>;
  putInfo(hash: string, info: PictureInfo): Promise<void>;
  getVariant(hash: string, variant: VariantName): Promise<Buffer | undefined>;
  putVariant(hash: string, variant: VariantName, bytes: Buffer): Promise<void>;
  /**
   * Retention: removes, with their unshared pictures, up to `limit` records after `after` (in name order) that
   * were last fresh before `staleBefore`. `next`: where the following run goes on (undefined: the end).
   */
  sweep(options: { staleBefore: number; after?: string; limit: number }): Promise<{ examined: number; removed: number; next?: string }>;
}

/** The fields of a stored record (freshUntil is derived: resolvedAt + lifetime). Bump `v` when they change. */
interface StoredRecord {
  v: 1;
  status: ContactRecord['status'];
  hash: string;
  url: string;
  resolvedAt: number;
  lifetime: number;
  urlExpiresAt: number;
  changedAt: number;
}

const DIGEST_BYTES = 32;
const NAMING_KEY = 'naming-key';
const RECORDS = 'records/';

const recordName = (contact: string) => `${RECORDS}${contact}.json`;
const usersOf = (hash: string) => `users/${hash}/`;
const sourceName = (hash: string) => `sources/${hash}`;
const infoName = (hash: string) => `info/${hash}.json`;
const variantsOf = (hash: string) => `variants/${hash}/`;
const variantName = (hash: string, { size, format }: VariantName) => `${variantsOf(hash)}v${PIPELINE_VERSION}-${size}.${format}`;

const toStored = (meta: ContactRecord): StoredRecord => ({
  v: 1,
  status: meta.status,
  hash: meta.hash,
  url: meta.url,
  resolvedAt: meta.resolvedAt,
  lifetime: meta.lifetime,
  urlExpiresAt: meta.urlExpiresAt,
  changedAt: meta.changedAt,
});

function fromStored(bytes: Buffer): ContactRecord | undefined {
  let stored: StoredRecord;
  try {
    stored = JSON.parse(bytes.toString('utf8')) as StoredRecord;
  } catch {
    return undefined;
  }
  if (stored?.v !== 1 || !RECORD_STATUSES.includes(stored.status) || typeof stored.resolvedAt !== 'number' || typeof stored.lifetime !== 'number') return undefined;
  const { status, hash, url, resolvedAt, lifetime, urlExpiresAt, changedAt } = stored;
  return { status, hash: hash ?? '', url: url ?? '', resolvedAt, lifetime, urlExpiresAt: urlExpiresAt ?? 0, changedAt: changedAt ?? resolvedAt, freshUntil: resolvedAt + lifetime * 1000 };
}

function parseInfo(bytes: Buffer): PictureInfo | undefined {
  try {
    const info = JSON.parse(bytes.toString('utf8')) as PictureInfo;
    return typeof info?.color === 'string' && typeof info.width === 'number' ? info : undefined;
  } catch {
    return undefined;
  }
}

/** The key contacts' records are named with: made by the first process that uses the store, read by every other. */
async function namingKey(store: BlobStore): Promise<Buffer> {
  const existing = await store.get(NAMING_KEY);
  if (existing?.length === DIGEST_BYTES) return existing;
  await store.putNew(NAMING_KEY, randomBytes(DIGEST_BYTES));
  // Whoever won the race wrote the key every process now reads.
  const kept = await store.get(NAMING_KEY);
  if (kept?.length !== DIGEST_BYTES) throw new Error(`the storage's ${NAMING_KEY} is not ${DIGEST_BYTES} bytes: remove it to start afresh`);
  return kept;
}

export async function openDurableAvatars(store: BlobStore): Promise<DurableAvatars> {
  const key = await namingKey(store);
  // The chatId is not in the name (nor in the record): listing the store shows no phone number.
  const contactOf = (chatId: string) => createHmac('sha256', key).update(chatId).digest('base64url');

  /** A blob read and checked; one that fails the check is removed and reads as missing. */
  async function checked<T>(name: string, check: (bytes: Buffer) => T | undefined): Promise<T | undefined> {
    const bytes = await store.get(name);
    if (!bytes) return undefined;
    const value = check(bytes);
    if (value === undefined) await store.delete([name]);
    return value;
  }

  /** Every blob of picture `hash`, once no contact's record shows it. */
  async function collect(hash: string): Promise<void> {
    if (!hash || (await store.list(usersOf(hash), { limit: 1 })).length > 0) return;
    for (;;) {
      const variants = await store.list(variantsOf(hash), { limit: 1000 });
      if (variants.length === 0) break;
      await store.delete(variants);
    }
    await store.delete([sourceName(hash), infoName(hash)]);
  }

  async function eraseContact(contact: string, record: ContactRecord | undefined): Promise<void> {
    await store.delete([recordName(contact)]);
    if (!record?.hash) return;
    await store.delete([`${usersOf(record.hash)}${contact}`]);
    await collect(record.hash);
  }

  const readByContact = (contact: string) => checked(recordName(contact), fromStored);

  return {
    readRecord: (chatId) => readByContact(contactOf(chatId)),

    async writeRecord(chatId, meta) {
      const contact = contactOf(chatId);
      const previous = await readByContact(contact);
      // A write tried again late never replaces a newer record.
      if (previous && previous.resolvedAt > meta.resolvedAt) return;
      if (meta.hash) await store.put(`${usersOf(meta.hash)}${contact}`, Buffer.alloc(0));
      await store.put(recordName(contact), Buffer.from(JSON.stringify(toStored(meta))));
      if (previous?.hash && previous.hash !== meta.hash) {
        await store.delete([`${usersOf(previous.hash)}${contact}`]);
        await collect(previous.hash);
      }
    },

    async erase(chatId) {
      const contact = contactOf(chatId);
      await eraseContact(contact, await readByContact(contact));
    },

    getSource: (hash) => checked(sourceName(hash), (bytes) => (sha256(bytes) === hash ? bytes : undefined)),
    hasSource: (hash) => store.has(sourceName(hash)),
    async putSource(hash, bytes) {
      if (!(await store.has(sourceName(hash)))) await store.put(sourceName(hash), bytes);
    },
    deleteSource: (hash) => store.delete([sourceName(hash)]),

    getInfo: (hash) => checked(infoName(hash), parseInfo),
    hasInfo: (hash) => store.has(infoName(hash)),
    putInfo: (hash, info) => store.put(infoName(hash), Buffer.from(JSON.stringify(info))),

    getVariant: (hash, variant) =>
      checked(variantName(hash, variant), (stored) => {
        const bytes = stored.subarray(DIGEST_BYTES);
        return bytes.length > 0 && sha256(bytes) === stored.toString('hex', 0, DIGEST_BYTES) ? bytes : undefined;
      }),
    putVariant: (hash, variant, bytes) => store.put(variantName(hash, variant), Buffer.concat([Buffer.from(sha256(bytes), 'hex'), bytes])),

    async sweep({ staleBefore, after, limit }) {
      const names = await store.list(RECORDS, { after, limit });
      let removed = 0;
      for (const name of names) {
        const contact = name.slice(RECORDS.length, -'.json'.length);
        const record = await readByContact(contact);
        // A contact served after its record went stale was refreshed (resolvedAt moved on): one whose record
        // has been stale since before the window was neither served nor refreshed in it.
        if (record && record.freshUntil >= staleBefore) continue;
        await eraseContact(contact, record);
        removed++;
      }
      return { examined: names.length, removed, next: names.length < limit ? undefined : names.at(-1) };
    },
  };
}
