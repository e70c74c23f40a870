import type { RedisClient } from '../redis';
import { createKeys } from '../avatar/keys';
import type { AvatarQueues } from '../queue/queues';
import { onceAt, PRIORITY, resolveKey } from '../queue/jobs';

const ADD_CHUNK = 1000;

/** What a warm needs of a contact's stored answer: its status, when it was resolved, until when it is fresh. */
export type AnswerFreshness = [status: string | null, resolvedAt: string | null, freshUntil: string | null];

/**
 * Background lookups: what warm batches, the keep-fresh job's peers and Green API's notifications share. A warm
 * never costs a call for a fresh answer (unless forced), and joins any lookup of the same contact already
 * waiting or running (one job id per contact).
 */
export interface WarmLookups {
  /** The stored answers' freshness, one round trip for all (ioredis writes them back to back). */
  freshness(chatIds: string[]): Promise<AnswerFreshness[]>;
  /** The chatIds whose answer is not fresh at `now` (every one with `force`). */
  stale(chatIds: string[], force: boolean, now: number): Promise<string[]>;
  /** Warm lookups waiting now (interactive misses are not counted). */
  waiting(): Promise<number>;
  /** Queues a lookup for each chatId below interactive misses: a page view is never stuck behind a warm. */
  enqueue(chatIds: string[], force: boolean, batchId?: string): Promise<void>;
}

export function createWarmLookups(redis: RedisClient, keyPrefix: string, queues: AvatarQueues): WarmLookups {
  const keys = createKeys(keyPrefix);
  const freshness = (chatIds: string[]) =>
    Promise.all(chatIds.map((chatId) => redis.hmget(keys.meta(chatId), 'status', 'resolvedAt', 'freshUntil') as Promise<AnswerFreshness>));
  return {
    freshness,
    async stale(chatIds, force, now) {
      if (force) return chatIds;
      const known = await freshness(chatIds);
      return chatIds.filter((_, i) => !(Number(known[i]?.[2]) > now));
    },
    async waiting() {
      const counts = await queues.resolve.getCountsPerPriority([PRIORITY.background]);
      return counts[PRIORITY.background] ?? 0;
    },
    async enqueue(chatIds, force, batchId) {
      for (let i = 0; i < chatIds.length; i += ADD_CHUNK) {
        await queues.resolve.addBulk(
          chatIds.slice(i, i + ADD_CHUNK).map((chatId) => ({
            name: 'resolve',
            data: { chatId, force, ...(batchId ? { batchId } : {}) },
            opts: onceAt(resolveKey(chatId), PRIORITY.background),
          })),
        );
      }
    },
  };
}
