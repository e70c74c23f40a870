import type { RedisClient } from '../redis';
import { createKeys } from '../avatar/keys';

export interface MissLimiter {
  /** Counts one upstream-starting request for a client: 0 when allowed, else seconds until it may retry. */
  take(clientIp: string): Promise<number>;
}

/**
 * A fixed one-minute window per client IP, in Redis so every API process shares it. Only requests that
 * would start a new upstream call are counted; hits cost nothing.
 */
export function createMissLimiter(redis: RedisClient, keyPrefix: string, perMinute: number): MissLimiter {
  const keys = createKeys(keyPrefix);
  return {
    async take(clientIp) {
      if (perMinute <= 0) return 0;
      const now = Date.now();
      const minute = Math.floor(now / 60_000);
      const key = keys.missRate(clientIp, minute);
      const [[, count]] = (await redis.multi().incr(key).expire(key, 61).exec()) as [[Error | null, number]];
      return count <= perMinute ? 0 : Math.ceil(((minute + 1) * 60_000 - now) / 1000);
    },
  };
}
