import type { Redis } from 'ioredis';
import type { Logger } from '../logger';
import type { GreenApiClient } from './client';
import { GreenApiError } from './errors';

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

export function createBreaker(redis: Redis, keyPrefix: string, cooldowns: BreakerCooldowns): InstanceBreaker {
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

/**
 * GetAvatar behind the breaker: while it is open no call is made (each would be refused and may be billed);
 * a 401/403/400 or 466 answer opens it and is logged once, loudly, without the token.
 */
export function guardWithBreaker(
  client: GreenApiClient,
  breaker: InstanceBreaker,
  idInstance: string,
  logger: Logger,
): GreenApiClient {
  return {
    async getAvatar(chatId) {
      const state = await breaker.state(idInstance);
      if (state !== 'ok') {
        throw new GreenApiError(state, `instance ${idInstance} is paused (${state}); no GetAvatar call made`);
      }
      try {
        return await client.getAvatar(chatId);
      } catch (err) {
        if (err instanceof GreenApiError && (err.kind === 'unauthorized' || err.kind === 'quota')) {
          await breaker.open(idInstance, err.kind);
          logger.error({ idInstance, status: err.status, err: err.message }, `Green API instance ${idInstance} paused: ${err.kind}`);
        }
        throw err;
      }
    },
  };
}
