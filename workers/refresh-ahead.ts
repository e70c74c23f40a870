import type { Queue } from 'bullmq';
import type { AvatarStore } from '../src/avatar/store';
import type { RedisClient } from '../src/redis';
import { createKeys } from '../src/avatar/keys';
import type { Clock } from '../src/clock';
import { onceAt, PRIORITY, resolveKey, type JobOutcome, type ResolveJob } from '../src/queue/jobs';

export interface RefreshAheadOptions {
  /** Answers expiring within this many seconds are refreshed (at most half of each answer's lifetime). */
  aheadSeconds: number;
  /** Only chatIds requested within this many seconds count as popular. */
  recentSeconds: number;
}

/** At most this many chatIds are looked at per run, so one run stays short. */
const MAX_PER_RUN = 10_000;

/**
 * The keep-fresh job: re-resolves avatars that were requested recently and whose answer expires soon, so
 * popular avatars are never served stale. It follows each answer's own lifetime, which grows while the
 * picture does not change. Forgets chatIds nobody asked for lately.
 */
export function createRefreshAhead(
  redis: RedisClient,
  keyPrefix: string,
  store: AvatarStore,
  resolveQueue: Queue<ResolveJob, JobOutcome>,
  clock: Clock,
  options: RefreshAheadOptions,
) {
  const keys = createKeys(keyPrefix);
  return async (): Promise<JobOutcome> => {
    const now = clock();
    await redis.zremrangebyscore(keys.recent, '-inf', now - options.recentSeconds * 1000);
    const chatIds = await redis.zrevrange(keys.recent, 0, MAX_PER_RUN - 1);
    if (chatIds.length === 0) return { status: 'refreshed 0' };
    const records = await store.freshness(chatIds);
    const due = chatIds.filter((_, i) => {
      const record = records[i];
      if (record?.status !== 'ok') return false;
      // Never more than half an answer's life ahead, or every answer would be due as soon as it is made.
      const ahead = Math.min(options.aheadSeconds, (record.lifetime || Infinity) / 2) * 1000;
      return record.freshUntil - now < ahead;
    });
    await resolveQueue.addBulk(
      due.map((chatId) => ({
        name: 'resolve',
        data: { chatId, force: true },
        opts: onceAt(resolveKey(chatId), PRIORITY.background),
      })),
    );
    return { status: `refreshed ${due.length}` };
  };
}
