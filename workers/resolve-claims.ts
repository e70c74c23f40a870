import { randomUUID } from 'node:crypto';
import { createKeys } from '../src/avatar/keys';
import type { RedisClient } from '../src/redis';

/** Deletes a claim only while it is still its claimer's: one that outlived its time may be another's now. */
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type ReleaseCommand = (key: string, token: string) => Promise<number>;

/** Ends a claim. */
export type Release = () => Promise<void>;

/**
 * Which process resolves a chatId right now. A resolve job and a request's in-place resolve (resolve-here) both
 * claim the chatId first, so no two processes call GetAvatar for it at once; the claim lasts at most as long as a
 * job's lock. Also where an upstream 429's pause is kept: resolve jobs wait it out in BullMQ's limiter, in-place
 * resolves ask here.
 */
export interface ResolveClaims {
  /** The claim's release, or undefined: another process holds the chatId, or (`unlessPaused`) a 429 pause is on. */
  claim(chatId: string, options?: { unlessPaused?: boolean }): Promise<Release | undefined>;
  /** Pauses in-place resolves for `ms`. */
  pause(ms: number): Promise<void>;
}

export function createResolveClaims(redis: RedisClient, keyPrefix: string, claimMs: number): ResolveClaims {
  const keys = createKeys(keyPrefix);
  if (!('releaseResolveClaim' in redis)) redis.defineCommand('releaseResolveClaim', { numberOfKeys: 1, lua: RELEASE_LUA });
  const releaseCommand = (redis as unknown as { releaseResolveClaim: ReleaseCommand }).releaseResolveClaim.bind(redis);

  return {
    async claim(chatId, { unlessPaused = false } = {}) {
      const key = keys.resolving(chatId);
      const token = randomUUID();
      // Sent together (one round trip); the pause key lives in another slot on a cluster, so not one script.
      const [claimed, paused] = await Promise.all([redis.set(key, token, 'PX', claimMs, 'NX'), unlessPaused ? redis.exists(keys.resolvePause) : 0]);
      const release: Release = async () => {
        await releaseCommand(key, token);
      };
      if (claimed !== 'OK') return undefined;
      if (paused === 1) {
        await release();
        return undefined;
      }
      return release;
    },

    async pause(ms) {
      await redis.set(keys.resolvePause, '1', 'PX', ms);
    },
  };
}
