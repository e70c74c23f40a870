import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock';
import { mergeHeaders } from '../http/headers';
import type { AvatarResponse } from './response';

/**
 * Ready responses in this process's memory: a copy of what Redis says, never the truth. A contact's copies are
 * dropped when its record changes or is forgotten in any process (see records/record-changes), and nothing is
 * served or kept while that news cannot arrive (the channel is down). MEMORY_CACHE_TTL_MS only bounds a copy.
 */
export interface ResponseMemory {
  /** The response kept under this key, or undefined; never does I/O. */
  get(cacheKey: string): CachedResponse | undefined;
  /** Keeps a response of chatId's record (resolved at `resolvedAt`) until the record is no longer fresh. */
  remember(cacheKey: string, chatId: string, response: AvatarResponse, record: { resolvedAt: number; freshUntil: number }): void;
  /** chatId's record changed or was forgotten at `at`: its copies go, and a record resolved before `at` is not kept again. */
  forget(chatId: string, at: number): void;
  /** Whether changes reach this process; while they do not, nothing is served from memory. */
  setLive(live: boolean): void;
}

/** A response kept in memory, with the chatId it is for (refresh-ahead remembers what was served). */
export interface CachedResponse extends AvatarResponse {
  chatId: string;
}

/**
 * What a cached response holds besides its body, measured in a heap snapshot of 47,000 cached avatars: the
 * response and header objects, its strings (ETag, Cache-Control, tag, key, chatId), the Buffer and its
 * ArrayBuffer, the LRU's slots. Counted, so MEMORY_CACHE_MB is what the cache really holds.
 */
const ENTRY_OVERHEAD_BYTES = 1024;

/** Changes remembered per contact, so a read that raced a change is not kept (bounded: they matter for one TTL). */
const MAX_RECENT_CHANGES = 100_000;

function ownCopy(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

/**
 * The cache keys of each contact's copies, so a change drops them without a scan. Nearly every contact has one
 * (its URL), kept as that string; a Set only beside a second (a Set per contact held 5 of the 113 MB of live heap
 * at 50,000 cached avatars).
 */
function keysByContact() {
  const keys = new Map<string, string | Set<string>>();
  return {
    add(chatId: string, cacheKey: string): void {
      const held = keys.get(chatId);
      if (held === undefined) keys.set(chatId, cacheKey);
      else if (typeof held !== 'string') held.add(cacheKey);
      else if (held !== cacheKey) keys.set(chatId, new Set([held, cacheKey]));
    },
    delete(chatId: string, cacheKey: string): void {
      const held = keys.get(chatId);
      if (held === cacheKey) keys.delete(chatId);
      else if (typeof held === 'object' && held.delete(cacheKey) && held.size === 0) keys.delete(chatId);
    },
    of(chatId: string): string[] {
      const held = keys.get(chatId);
      return held === undefined ? [] : typeof held === 'string' ? [held] : [...held];
    },
  };
}

export function createResponseMemory({ maxBytes, ttlMs }: { maxBytes: number; ttlMs: number }, clock: Clock): ResponseMemory {
  const enabled = maxBytes > 0 && ttlMs > 0;
  const keysOf = keysByContact();
  const entries = new LRUCache<string, CachedResponse>({
    maxSize: Math.max(1, maxBytes),
    sizeCalculation: (r) => r.body.length + ENTRY_OVERHEAD_BYTES,
    ttl: Math.max(1, ttlMs),
    // Lifetimes on the service's clock, as the records' freshness is.
    perf: { now: clock },
    dispose: (response, cacheKey) => keysOf.delete(response.chatId, cacheKey),
  });
  const changedAt = new LRUCache<string, number>({ max: MAX_RECENT_CHANGES, ttl: Math.max(1, ttlMs), perf: { now: clock } });
  let live = false;

  return {
    get: (cacheKey) => (live ? entries.get(cacheKey) : undefined),

    remember(cacheKey, chatId, response, { resolvedAt, freshUntil }) {
      const ttl = Math.min(ttlMs, freshUntil - clock());
      if (!enabled || !live || ttl <= 0 || !cacheKey) return;
      // Read before a change this process has already heard of: the copy would outlive the change.
      if ((changedAt.get(chatId) ?? -Infinity) > resolvedAt) return;
      // A copy: a body read from Redis is a view into a 64 KB socket chunk, which would stay pinned with it.
      // A literal, not a spread with overrides: V8 gave each spread copy a hidden class of its own (50,000
      // cached avatars, 50,000 shapes kept alive and every read of them megamorphic).
      const cached: CachedResponse = {
        statusCode: response.statusCode,
        headers: mergeHeaders(response.headers, { 'x-cache': 'HIT' }),
        // Its own memory, exactly its size: a small Buffer.from() is a slice of a shared 8 KB slab, and one
        // cached body kept a whole slab alive (1.4 KB held per 0.9 KB body at 50,000 avatars).
        body: ownCopy(response.body),
        etag: response.etag,
        chatId,
      };
      entries.set(cacheKey, cached, { ttl });
      keysOf.add(chatId, cacheKey);
    },

    forget(chatId, at) {
      changedAt.set(chatId, Math.max(at, changedAt.get(chatId) ?? -Infinity));
      for (const cacheKey of keysOf.of(chatId)) entries.delete(cacheKey);
    },

    setLive(now) {
      // Whatever changed while the news could not arrive is unknown: every copy goes, both ways.
      entries.clear();
      live = now && enabled;
    },
  };
}
