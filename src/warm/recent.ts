import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock';
import type { RedisClient } from '../redis';
import { createKeys } from '../avatar/keys';

/**
 * Remembers which chatIds were served, for refresh-ahead. The request path only adds to an in-process set;
 * a timer writes it to a Redis sorted set (score: time) now and then, so hits cost no Redis write. A chatId
 * written lately is not written again until `rewriteMs` passed (keep-fresh needs "served recently", not
 * "served this second"), and a flush goes out in bounded chunks, so 50,000 hot avatars do not make one
 * giant ZADD every few seconds.
 */
export interface RecentRequests {
  touch(chatId: string): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface RecentOptions {
  flushMs: number;
  /** A chatId already written within this long is not written again. */
  rewriteMs: number;
}

/** chatIds per ZADD. */
const CHUNK = 1000;
/** chatIds whose last write this process remembers (beyond it, a chatId is simply written again). */
const REMEMBERED = 200_000;

export function createRecentRequests(redis: RedisClient, keyPrefix: string, { flushMs, rewriteMs }: RecentOptions, clock: Clock): RecentRequests {
  const key = createKeys(keyPrefix).recent;
  const written = new LRUCache<string, number>({ max: REMEMBERED });
  let pending = new Set<string>();

  async function flush(): Promise<void> {
    if (pending.size === 0) return;
    const batch = [...pending];
    pending = new Set();
    const now = clock();
    for (let i = 0; i < batch.length; i += CHUNK) {
      const chunk = batch.slice(i, i + CHUNK);
      await redis.zadd(key, ...chunk.flatMap((chatId) => [now, chatId]));
      for (const chatId of chunk) written.set(chatId, now);
    }
  }
  const timer = setInterval(() => void flush().catch(() => undefined), flushMs);
  timer.unref();
  return {
    touch(chatId) {
      // A peek: every hit passes here, and a write (set) already keeps a chatId's place in the LRU.
      const last = written.peek(chatId);
      if (last === undefined || clock() - last >= rewriteMs) pending.add(chatId);
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush().catch(() => undefined);
    },
  };
}
