import type { AvatarStore, RecordFreshness } from '../avatar/store';
import type { AvatarQueues } from '../queue/queues';
import { onceAt, PRIORITY, resolveKey } from '../queue/jobs';

const ADD_CHUNK = 1000;

/**
 * Background lookups: what warm batches, the keep-fresh job's peers and Green API's notifications share. A warm
 * never costs a call for a fresh answer (unless forced), and joins any lookup of the same contact already
 * waiting or running (one job id per contact).
 */
export interface WarmLookups {
  /** The records' freshness, one round trip for all. */
  freshness(chatIds: string[]): Promise<(RecordFreshness | undefined)[]>;
  /** The chatIds whose answer is not fresh at `now` (every one with `force`). */
  stale(chatIds: string[], force: boolean, now: number): Promise<string[]>;
  /** Warm lookups waiting now (interactive misses are not counted). */
  waiting(): Promise<number>;
  /** Queues a lookup for each chatId below interactive misses: a page view is never stuck behind a warm. */
  enqueue(chatIds: string[], force: boolean, batchId?: string): Promise<void>;
}

export function createWarmLookups(store: AvatarStore, queues: AvatarQueues): WarmLookups {
  const freshness = (chatIds: string[]) => store.freshness(chatIds);
  return {
    freshness,
    async stale(chatIds, force, now) {
      if (force) return chatIds;
      const known = await freshness(chatIds);
      return chatIds.filter((_, i) => !((known[i]?.freshUntil ?? 0) > now));
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
