import type { Clock } from '../clock';
import type { RedisClient } from '../redis';
import { createKeys } from '../avatar/keys';
import { LIFETIMES } from '../lifetimes';

export interface ClientLimiter {
  /** Counts one unit of work a client's request causes: 0 when allowed, else seconds until it may retry. */
  take(clientIp: string): Promise<number>;
}

/**
 * A fixed one-minute window per client IP and kind of work, in Redis so every API process shares it. Only
 * requests that cause new work are counted; hits, and requests joining work already in flight, cost nothing.
 * The window follows the service's clock, so a test can hold one minute still.
 */
export function createClientLimiter(redis: RedisClient, keyPrefix: string, kind: 'miss' | 'render' | 'refresh', perMinute: number, clock: Clock): ClientLimiter {
  const keys = createKeys(keyPrefix);
  return {
    async take(clientIp) {
      if (perMinute <= 0) return 0;
      const now = clock();
      const minute = Math.floor(now / 60_000);
      const key = keys.clientRate(kind, clientIp, minute);
      const [[, count]] = (await redis.multi().incr(key).expire(key, LIFETIMES.clientRateWindowSeconds).exec()) as [[Error | null, number]];
      return count <= perMinute ? 0 : Math.ceil(((minute + 1) * 60_000 - now) / 1000);
    },
  };
}
