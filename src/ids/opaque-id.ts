import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Opaque contact ids: `p-<token>` stands for a chatId without carrying it, so a phone number never has to
 * appear in a public URL. The scheme is public (any back end can make tokens) and deterministic (the same
 * contact always gets the same URL, so browsers and CDNs cache it): a synthetic-IV encryption.
 *
 *   kmac  = HMAC-SHA256(key, "avatar-cdn id mac")      kenc = HMAC-SHA256(key, "avatar-cdn id enc")
 *   iv    = first 16 bytes of HMAC-SHA256(kmac, chatId)  (chatId as the service normalises it: 11001234567@c.us)
 *   ct    = AES-256-CTR(kenc, iv, UTF-8 bytes of chatId)
 *   token = base64url without padding of (iv || ct)     id = "p-" + token
 *
 * Reading decrypts with each key and recomputes the iv from the plaintext: only a holder of a key can make a
 * token that reads back. This module has no dependencies: `avatar-cdn/client` uses it too.
 */

const OPAQUE_ID_PREFIX = 'p-';
const IV_BYTES = 16;
/** The longest chatId the service accepts (chat-id.ts) bounds the token: anything longer is not one. */
const MAX_CHAT_ID_BYTES = 64;
const TOKEN = /^[A-Za-z0-9_-]+$/;

interface IdKey {
  mac: Buffer;
  enc: Buffer;
}

function deriveKey(key: string): IdKey {
  return {
    mac: createHmac('sha256', key).update('avatar-cdn id mac').digest(),
    enc: createHmac('sha256', key).update('avatar-cdn id enc').digest(),
  };
}

const ivOf = (key: IdKey, plaintext: Buffer) => createHmac('sha256', key.mac).update(plaintext).digest().subarray(0, IV_BYTES);

/** AES-256-CTR is its own inverse: the same call encrypts and decrypts. */
function ctr(key: IdKey, iv: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-ctr', key.enc, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

function encode(key: IdKey, chatId: string): string {
  const plaintext = Buffer.from(chatId, 'utf8');
  const iv = ivOf(key, plaintext);
  return OPAQUE_ID_PREFIX + Buffer.concat([iv, ctr(key, iv, plaintext)]).toString('base64url');
}

/** The opaque id of a normalised chatId under one key (what `avatar-cdn/client` and `npm run id` print). */
export function makeOpaqueId(key: string, chatId: string): string {
  return encode(deriveKey(key), chatId);
}

export const isOpaqueId = (id: string): boolean => id.startsWith(OPAQUE_ID_PREFIX);

/** The bytes of a token, or a stand-in of the same shape when it is not one (so every failure costs the same). */
function tokenBytes(id: string): { bytes: Buffer; wellFormed: boolean } {
  const token = id.slice(OPAQUE_ID_PREFIX.length);
  const bytes = TOKEN.test(token) ? Buffer.from(token, 'base64url') : Buffer.alloc(0);
  // Canonical only: a token with other trailing bits would be a second URL for the same contact.
  const wellFormed = bytes.length > 0 && bytes.toString('base64url') === token;
  const fits = bytes.length > IV_BYTES && bytes.length <= IV_BYTES + MAX_CHAT_ID_BYTES;
  return fits ? { bytes, wellFormed } : { bytes: Buffer.alloc(IV_BYTES + 16), wellFormed: false };
}

export interface OpaqueIds {
  /** The opaque id URLs use for a chatId (made with the first key). */
  encode(chatId: string): string;
  /** The chatId an opaque id stands for, or undefined when no key made it (tampered, truncated, foreign, not base64url). */
  decode(id: string): string | undefined;
}

/** Ids made with the first key; ids made with any of them read back (key rotation: ID_KEYS=new,old). */
export function createOpaqueIds(keys: string[]): OpaqueIds {
  const derived = keys.map(deriveKey);
  const first = derived[0]!;
  return {
    encode: (chatId) => encode(first, chatId),
    decode(id) {
      const { bytes, wellFormed } = tokenBytes(id);
      const iv = bytes.subarray(0, IV_BYTES);
      const ciphertext = bytes.subarray(IV_BYTES);
      let found: Buffer | undefined;
      // Every key is tried whatever happens: the work does not say which check failed.
      for (const key of derived) {
        const plaintext = ctr(key, iv, ciphertext);
        if (timingSafeEqual(ivOf(key, plaintext), iv) && !found) found = plaintext;
      }
      return wellFormed && found ? found.toString('utf8') : undefined;
    },
  };
}
