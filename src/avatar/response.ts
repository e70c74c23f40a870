import { hash } from 'node:crypto';
import { errorBody } from '../errors';
import { mergeHeaders } from '../http/headers';
import type { AvatarRequest } from './request';
import { RECORD_STATUSES, type ServedRecord } from './store';
import { CONTENT_TYPES } from './variant';

export const CACHE_STATES = ['HIT', 'MISS', 'STALE'] as const;
export type CacheState = (typeof CACHE_STATES)[number];
/** X-Avatar-Status: an answer's status, or why there is none yet. */
export const AVATAR_STATUSES = [...RECORD_STATUSES, 'pending', 'error', 'rate-limited'] as const;
export type AvatarStatus = (typeof AVATAR_STATUSES)[number];

/** A complete answer, headers included, so a cached one can be sent again without any work. */
export interface AvatarResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Empty when the response has no ETag (a 404). */
  etag: string;
}

/** Seconds a browser (or CDN) may keep the response; 0 means `no-store`. */
export function cacheControl(maxAgeSeconds: number, staleSeconds = 0): string {
  if (maxAgeSeconds <= 0) return 'no-store';
  const swr = staleSeconds > 0 ? `, stale-while-revalidate=${staleSeconds}` : '';
  return `public, max-age=${maxAgeSeconds}${swr}`;
}

/**
 * Names the contact for a CDN's purge-by-tag (Surrogate-Key, Cache-Tag): a hash of the chatId, never the
 * number itself. One-shot `hash()`: a Hash object per response cost about 1 µs more, and garbage.
 */
export const contactTag = (chatId: string): string => `avatar-${hash('sha256', chatId, 'hex').slice(0, 16)}`;

/** How long a browser or CDN may keep an answer's image (or placeholder). */
export interface CacheLimits {
  browserMaxAgeSeconds: number;
  staleMaxAgeSeconds: number;
}

/**
 * Cache-Control for an answer: while it is fresh, until then (at most `browserMaxAgeSeconds`); once stale,
 * `staleMaxAgeSeconds` while it is refreshed. A picture may also be served stale while revalidating. Never past
 * the request's own `exp` (a signed URL that expires must not live on in caches).
 */
export function answerCacheControl(meta: ServedRecord, now: number, limits: CacheLimits, exp?: number): string {
  const fresh = meta.freshUntil > now;
  // Rounded up: in an answer's last second, max-age=1, never 0 (which would say no-store for a cached answer).
  const lifetime = fresh ? Math.min(limits.browserMaxAgeSeconds, Math.ceil((meta.freshUntil - now) / 1000)) : limits.staleMaxAgeSeconds;
  const untilExp = exp === undefined ? Infinity : Math.floor(exp - now / 1000);
  const maxAge = Math.min(lifetime, untilExp);
  return cacheControl(maxAge, meta.status === 'ok' ? Math.min(limits.staleMaxAgeSeconds, Math.max(0, untilExp - maxAge)) : 0);
}

/**
 * What every avatar response says (image, placeholder, 404, JSON info): caching, status, tags, the static
 * headers first. Built by assignment (see mergeHeaders): these headers are made for every Redis hit.
 */
export function commonHeaders(req: AvatarRequest, status: AvatarStatus, cache: CacheState, cacheControlValue: string, staticHeaders: Record<string, string>): Record<string, string> {
  const tag = contactTag(req.chatId);
  const headers = mergeHeaders(staticHeaders, {
    'cache-control': cacheControlValue,
    'x-cache': cache,
    'x-avatar-status': status,
    'x-content-type-options': 'nosniff',
    'surrogate-key': tag,
    'cache-tag': tag,
  });
  if (req.negotiated) headers['vary'] = 'Accept';
  return headers;
}

/** An image: the avatar itself or a placeholder, with the headers every response carries (`staticHeaders`). */
export function imageResponse(
  req: AvatarRequest,
  body: Buffer,
  etag: string,
  status: AvatarStatus,
  cache: CacheState,
  cacheControlValue: string,
  staticHeaders: Record<string, string> = {},
): AvatarResponse {
  const headers = commonHeaders(req, status, cache, cacheControlValue, staticHeaders);
  headers['content-type'] = CONTENT_TYPES[req.format];
  headers['content-length'] = String(body.length);
  headers['etag'] = etag;
  headers['cross-origin-resource-policy'] = 'cross-origin';
  return { statusCode: 200, body, etag, headers };
}

/** `?fallback=404`: the app draws its own fallback. */
export function notFoundResponse(req: AvatarRequest, status: AvatarStatus, cache: CacheState, cacheControlValue: string, staticHeaders: Record<string, string> = {}): AvatarResponse {
  const body = Buffer.from(JSON.stringify(errorBody('no_avatar', `no avatar to show (${status})`)));
  const headers = commonHeaders(req, status, cache, cacheControlValue, staticHeaders);
  headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = String(body.length);
  return { statusCode: 404, body, etag: '', headers };
}

/** If-Match per RFC 9110: `*` or one of the listed ETags, compared strongly (a weak tag never matches). */
export function matchesIfMatch(header: string, etag: string): boolean {
  if (header.trim() === '*') return etag !== '';
  return header.split(',').some((tag) => tag.trim() === etag);
}

/** Strong comparison per RFC 9110 If-None-Match (weak prefixes match too, as GET allows). */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header || !etag) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** The 304 for a cached response: same validators and caching headers, no body. */
export function notModifiedHeaders(response: AvatarResponse): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name in response.headers) if (name !== 'content-length' && name !== 'content-type') headers[name] = response.headers[name]!;
  return headers;
}
