import type { Queue } from 'bullmq';
import type { RedisClient } from '../src/redis';
import { createKeys } from '../src/avatar/keys';
import { PRIORITY, resolveJobId, type JobOutcome, type ResolveJob } from '../src/queue/jobs';

export interface RefreshAheadOptions {
  /** Answers expiring within this many seconds are refreshed. */
  aheadSeconds: number;
  /** Only chatIds requested within this many seconds count as popular. */
  recentSeconds: number;
}

/** At most this many chatIds are looked at per run, so one run stays short. */
const MAX_PER_RUN = 10_000;

/**
 * The keep-fresh job: re-resolves avatars that were requested recently and whose answer expires soon, so
 * popular avatars are never served stale. Forgets chatIds nobody asked for lately.
 */
export function createRefreshAhead(redis: RedisClient, keyPrefix: string, resolveQueue: Queue<ResolveJob, JobOutcome>, options: RefreshAheadOptions) {
  const keys = createKeys(keyPrefix);
  return async (): Promise<JobOutcome> => {
    const now = Date.now();
    await redis.zremrangebyscore(keys.recent, '-inf', now - options.recentSeconds * 1000);
    const chatIds = await redis.zrevrange(keys.recent, 0, MAX_PER_RUN - 1);
    if (chatIds.length === 0) return { status: 'refreshed 0' };
    const metas = await Promise.all(chatIds.map((chatId) => redis.hmget(keys.meta(chatId), 'status', 'freshUntil')));
    const due = chatIds.filter((_, i) => {
      const [status, freshUntil] = metas[i]!;
      return status === 'ok' && Number(freshUntil) - now < options.aheadSeconds * 1000;
    });
    await resolveQueue.addBulk(
      due.map((chatId) => ({
        name: 'resolve',
        data: { chatId, force: true },
        opts: { jobId: resolveJobId(chatId), priority: PRIORITY.background },
      })),
    );
    return { status: `refreshed ${due.length}` };
  };
}
