import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Format } from '../avatar/variant';

/**
 * Signed avatar URLs: `sig` is HMAC-SHA256 (base64url) over `/avatar/<file>?<query>`, where file is the
 * decoded path segment and query holds every other parameter sorted by name. Without a valid signature
 * nobody can use the service as a free "is this number on WhatsApp?" oracle.
 */
export function canonicalTarget(file: string, params: URLSearchParams): string {
  const rest = [...params].filter(([name]) => name !== 'sig').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = new URLSearchParams(rest).toString();
  return `/avatar/${file}${query ? `?${query}` : ''}`;
}

export function sign(key: string, target: string): string {
  return createHmac('sha256', key).update(target).digest('base64url');
}

/** Checks the `sig` of a request in constant time. */
export function hasValidSignature(key: string, file: string, rawQuery: string): boolean {
  const params = new URLSearchParams(rawQuery);
  const given = params.getAll('sig');
  if (given.length !== 1) return false;
  const expected = Buffer.from(sign(key, canonicalTarget(file, params)));
  const actual = Buffer.from(given[0]!);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export interface SignOptions {
  format?: Format | 'jpg';
  size?: number;
  fallback404?: boolean;
}

/** A signed path for an avatar, e.g. `/avatar/11001234567.webp?size=64&sig=...`. */
export function signedAvatarPath(key: string, id: string, options: SignOptions = {}): string {
  const file = options.format ? `${id}.${options.format}` : id;
  const params = new URLSearchParams();
  if (options.fallback404) params.set('fallback', '404');
  if (options.size !== undefined) params.set('size', String(options.size));
  const target = canonicalTarget(file, params);
  params.set('sig', sign(key, target));
  return `/avatar/${encodeURIComponent(file).replace(/%40/g, '@')}?${params.toString()}`;
}
