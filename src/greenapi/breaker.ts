import type { RedisClient } from '../redis';

/** Why an instance is not being called: a wrong token/instance (401/403/400) or an exhausted plan (466). */
export type InstanceState = 'ok' | 'unauthorized' | 'quota';

export interface BreakerCooldowns {
  unauthorizedSeconds: number;
  quotaSeconds: number;
}

/** A per-instance circuit breaker kept in Redis, so every worker process stops calling together. */
export interface InstanceBreaker {
  state(idInstance: string): Promise<InstanceState>;
  open(idInstance: string, state: Exclude<InstanceState, 'ok'>): Promise<void>;
}

export function createBreaker(redis: RedisClient, keyPrefix: string, cooldowns: BreakerCooldowns): InstanceBreaker {
  const key = (idInstance: string) => `${keyPrefix}:breaker:${idInstance}`;
  return {
    async state(idInstance) {
      const value = await redis.get(key(idInstance));
      return value === 'unauthorized' || value === 'quota' ? value : 'ok';
    },
    async open(idInstance, state) {
      const seconds = state === 'quota' ? cooldowns.quotaSeconds : cooldowns.unauthorizedSeconds;
      if (seconds > 0) await redis.set(key(idInstance), state, 'EX', seconds);
    },
  };
}
