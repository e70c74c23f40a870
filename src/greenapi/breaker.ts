import type { RedisClient } from '../redis';
import { createKeys } from '../avatar/keys';
import { LIFETIMES } from '../lifetimes';
import type { QuotaReport } from './errors';

/** Why an instance is not being called: a wrong token/instance or one not ready (401/403/400), or an exhausted plan (466). */
export const INSTANCE_STATES = ['ok', 'unauthorized', 'quota'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export interface BreakerCooldowns {
  unauthorizedSeconds: number;
  quotaSeconds: number;
}

/** Unclassifiable refusals (an HTTP 400 we cannot read) this many times within the window pause the instance. */
export const STRIKES_TO_PAUSE = 3;

/** A per-instance circuit breaker kept in Redis, so every worker process stops calling together. */
export interface InstanceBreaker {
  state(idInstance: string): Promise<InstanceState>;
  /**
   * Pauses the instance for its cool-down (or `seconds`); a 466's numbers are kept as long, for /readyz and
   * metrics.
   */
  open(idInstance: string, state: Exclude<InstanceState, 'ok'>, pause?: { quota?: QuotaReport; seconds?: number }): Promise<void>;
  /**
   * Records that the instance reported its state as of `at` (a notification's timestamp); false when a later
   * report was applied already, so this older one, delivered late, must change nothing.
   */
  stateAsOf(idInstance: string, at: number): Promise<boolean>;
  /** Ends a pause for `state` at once (the instance said it is authorized again); true when one was lifted. */
  lift(idInstance: string, state: Exclude<InstanceState, 'ok'>): Promise<boolean>;
  /** What the last 466 said, while the instance is paused for it. */
  quota(idInstance: string): Promise<QuotaReport | undefined>;
  /** Counts an unclassifiable refusal; true when it is the one that makes STRIKES_TO_PAUSE in the window. */
  strike(idInstance: string): Promise<boolean>;
}

/** Keeps the latest report's time (for as long as Green API redelivers a notification): 1 when `at` is it. */
const NEWEST = "local seen = tonumber(redis.call('GET', KEYS[1]) or '-1') if seen > tonumber(ARGV[1]) then return 0 end redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 1";
const LIFT_IF = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

export function createBreaker(redis: RedisClient, keyPrefix: string, cooldowns: BreakerCooldowns): InstanceBreaker {
  const keys = createKeys(keyPrefix);
  const key = keys.breaker;
  return {
    async state(idInstance) {
      const value = await redis.get(key(idInstance));
      return value === 'unauthorized' || value === 'quota' ? value : 'ok';
    },
    async open(idInstance, state, { quota, seconds = state === 'quota' ? cooldowns.quotaSeconds : cooldowns.unauthorizedSeconds } = {}) {
      if (seconds <= 0) return;
      const write = redis.multi().set(key(idInstance), state, 'EX', seconds);
      if (quota) write.set(`${key(idInstance)}:quota`, JSON.stringify(quota), 'EX', seconds);
      await write.exec();
    },
    async stateAsOf(idInstance, at) {
      return (await redis.eval(NEWEST, 1, keys.instanceStateAt(idInstance), String(at), String(LIFETIMES.instanceStatePauseSeconds))) === 1;
    },
    async lift(idInstance, state) {
      // Only that pause: an instance paused for its quota stays paused when it is authorized again.
      return (await redis.eval(LIFT_IF, 1, key(idInstance), state)) === 1;
    },
    async quota(idInstance) {
      if ((await redis.get(key(idInstance))) !== 'quota') return undefined;
      const stored = await redis.get(`${key(idInstance)}:quota`);
      return stored ? (JSON.parse(stored) as QuotaReport) : undefined;
    },
    async strike(idInstance) {
      const strikes = `${key(idInstance)}:strikes`;
      const [[, count]] = (await redis.multi().incr(strikes).expire(strikes, LIFETIMES.breakerStrikeWindowSeconds, 'NX').exec()) as [[unknown, number]];
      return count === STRIKES_TO_PAUSE;
    },
  };
}
