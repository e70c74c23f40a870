import { createHmac } from 'node:crypto';
import { MAX_SIZE, snapSize } from './avatar/variant';
import { parseChatId } from './avatar/chat-id';
import { isOpaqueId, makeOpaqueId } from './ids/opaque-id';

/**
 * `avatar-cdn/client`: avatar URLs for Node back ends, signed when a key is given. No dependencies (the size set
 * comes from the service's own pure variant module).
 *
 * The signature (what any language reimplements): `sig` = base64url (no padding) of HMAC-SHA256, keyed with
 * the signing key, over the canonical target
 *   `/avatar/<file>` + (`?` + query, when there is a query)
 * where `<file>` is the path segment decoded (`11001234567.webp`, `120363043968066561@g.us.png`) and the query
 * is every parameter except `sig`, sorted by name, encoded as application/x-www-form-urlencoded (letters,
 * digits and `*-._` as they are, space as `+`, every other byte of the UTF-8 as `%XX` upper case) and joined
 * with `&`. An `exp` parameter (Unix seconds) is signed like any other and makes the URL expire.
 */

export type AvatarFormat = 'webp' | 'avif' | 'png' | 'jpg' | 'jpeg' | 'json';

export interface AvatarUrlOptions {
  size?: number;
  /** The file's extension (`json`: the JSON info); none: the service negotiates the image format from Accept. */
  format?: AvatarFormat;
  /** The placeholder for contacts with no picture: `mp` (default), `initials`, `blank`, `404`. */
  d?: 'mp' | 'initials' | 'blank' | '404';
  /** With d=initials: a name to take the initials from, or the letters themselves. */
  name?: string;
  initials?: string;
  /**
   * The id key (the first of ID_KEYS): the URL names the contact by its opaque id (`p-<token>`, see
   * src/ids/opaque-id.ts), never by its number.
   */
  idKey?: string;
  /** The signing key (the first of SIGNING_KEYS); without it the URL is unsigned. */
  key?: string;
  /** Unix seconds after which the signed URL is refused (403 expired_signature). */
  exp?: number;
}

/** The canonical target a signature covers (see the module comment). */
export function canonicalTarget(file: string, params: URLSearchParams): string {
  const rest = [...params].filter(([name]) => name !== 'sig').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = new URLSearchParams(rest).toString();
  return `/avatar/${file}${query ? `?${query}` : ''}`;
}

export function sign(key: string, target: string): string {
  return createHmac('sha256', key).update(target).digest('base64url');
}

/** `/avatar/<id>.<format>?...&sig=...` below `base` (an origin such as `https://avatars.example.com`, or ''). */
export function avatarUrl(base: string, id: string, options: AvatarUrlOptions = {}): string {
  // A URL for an id the service refuses would only be a 400 later: say so now.
  if (!parseChatId(id) && !isOpaqueId(id)) throw new TypeError(`"${id.slice(0, 64)}" is not a phone number, group id, chatId or opaque id`);
  const urlId = options.idKey && !isOpaqueId(id) ? opaqueIdOf(options.idKey, id) : id;
  const file = options.format ? `${urlId}.${options.format}` : urlId;
  const params = new URLSearchParams();
  if (options.size !== undefined) params.set('size', String(options.size));
  if (options.d !== undefined) params.set('d', options.d);
  if (options.name !== undefined) params.set('name', options.name);
  if (options.initials !== undefined) params.set('initials', options.initials);
  if (options.exp !== undefined) params.set('exp', String(Math.floor(options.exp)));
  if (options.key) params.set('sig', sign(options.key, canonicalTarget(file, params)));
  const query = params.toString();
  return `${base.replace(/\/+$/, '')}/avatar/${encodeURIComponent(file).replace(/%40/g, '@')}${query ? `?${query}` : ''}`;
}

/** The opaque id (`p-<token>`) of a phone number, group id or chatId under an ID_KEYS key. */
export function opaqueIdOf(idKey: string, id: string): string {
  const chatId = parseChatId(id);
  if (!chatId) throw new TypeError(`"${id.slice(0, 64)}" is not a phone number, group id or chatId`);
  return makeOpaqueId(idKey, chatId);
}

/** `<img srcset>` for 1x, 2x and 3x screens: the same avatar at 1, 2 and 3 times `size` (snapped, at most 640). */
export function avatarSrcSet(base: string, id: string, options: AvatarUrlOptions & { size: number }): string {
  const seen = new Set<number>();
  return [1, 2, 3]
    .map((x) => ({ x, size: snapSize(Math.min(options.size * x, MAX_SIZE)) }))
    .filter(({ size }) => !seen.has(size) && seen.add(size))
    .map(({ x, size }) => `${avatarUrl(base, id, { ...options, size })} ${x}x`)
    .join(', ');
}
