import type { Clock } from '../clock';
import type { RedisClient } from '../redis';
import { createKeys } from '../avatar/keys';

/**
 * Remembers which chatIds were served, for refresh-ahead. The request path only adds to an in-process set;
 * a timer writes the set to a Redis sorted set (score: time) now and then, so hits cost no Redis write.
 */
export interface RecentRequests {
  touch(chatId: string): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createRecentRequests(redis: RedisClient, keyPrefix: string, flushMs: number, clock: Clock): RecentRequests {
  const key = createKeys(keyPrefix).recent;
  let seen = new Set<string>();
  async function flush(): Promise<void> {
    if (seen.size === 0) return;
    const batch = seen;
    seen = new Set();
    const now = clock();
    await redis.zadd(key, ...[...batch].flatMap((chatId) => [now, chatId]));
  }
  const timer = setInterval(() => void flush().catch(() => undefined), flushMs);
  timer.unref();
  return {
    touch: (chatId) => void seen.add(chatId),
    flush,
    async close() {
      clearInterval(timer);
      await flush().catch(() => undefined);
    },
  };
}
