import { createKeys } from '../src/avatar/keys';
import type { Clock } from '../src/clock';
import type { JobOutcome } from '../src/queue/jobs';
import type { RedisClient } from '../src/redis';
import type { DurableAvatars } from '../src/storage/durable-avatars';

export interface RetentionOptions {
  /** Contacts neither served nor refreshed for this many days leave the durable store. */
  days: number;
  /** Records looked at in one run: a run stays short however large the store is. */
  perRun: number;
}

/**
 * The retention job (STORAGE_RETENTION_DAYS): one bounded step through the durable store's records per run,
 * going on where the last run stopped (in Redis, so whichever process runs the next job), from the start again
 * after the last record.
 */
export function createRetention(durable: DurableAvatars, redis: RedisClient, keyPrefix: string, clock: Clock, options: RetentionOptions) {
  const cursorKey = createKeys(keyPrefix).retentionCursor;
  return async (): Promise<JobOutcome> => {
    const after = (await redis.get(cursorKey)) ?? undefined;
    const { examined, removed, next } = await durable.sweep({ staleBefore: clock() - options.days * 86_400_000, after, limit: options.perRun });
    if (next) await redis.set(cursorKey, next);
    else await redis.del(cursorKey);
    return { status: `examined ${examined}, removed ${removed}` };
  };
}
