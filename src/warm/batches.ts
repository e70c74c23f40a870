import { randomUUID } from 'node:crypto';
import { AppError } from '../errors';
import type { RedisClient } from '../redis';
import { createKeys } from '../avatar/keys';
import type { WarmLookups } from './warm-lookups';
import type { Clock } from '../clock';
import { LIFETIMES } from '../lifetimes';


export interface BatchStatus {
  total: number;
  done: number;
  withAvatar: number;
  noAvatar: number;
  /** On WhatsApp, picture hidden from this instance. */
  private: number;
  notOnWhatsapp: number;
  failed: number;
  pending: number;
}

export interface WarmBatches {
  /**
   * Records a batch and enqueues a background resolve for every chatId whose answer is not fresh (all of
   * them with `force`). Fresh answers cost nothing. Returns the batch id.
   */
  start(chatIds: string[], force: boolean): Promise<string>;
  /** Progress, computed from the cache itself; undefined for an unknown or expired batch. */
  status(batchId: string): Promise<BatchStatus | undefined>;
}

/** Counts a final failure for the batch that asked (the worker's side of a batch). */
export type MarkBatchFailed = (batchId: string, chatId: string) => Promise<void>;

export function createMarkBatchFailed(redis: RedisClient, keyPrefix: string): MarkBatchFailed {
  const keys = createKeys(keyPrefix);
  return async (batchId, chatId) => {
    const key = keys.batchFailed(batchId);
    await redis.multi().sadd(key, chatId).expire(key, LIFETIMES.warmBatchSeconds).exec();
  };
}

/** When the warm backlog is full, try again after about this long. */
const WARM_RETRY_AFTER_SECONDS = 60;

/** The warm backlog is full: the batch was not accepted (429, like every error that carries its status). */
export class WarmBacklogFull extends AppError {
  constructor(waiting: number, limit: number) {
    super(429, 'warm_backlog_full', `${waiting} warm lookups are waiting; this batch would pass MAX_WARM_BACKLOG (${limit}); retry later`, {
      'Retry-After': String(WARM_RETRY_AFTER_SECONDS),
    });
  }
}

/** `maxBacklog`: warm lookups (forced or not) that may wait at once; 0 turns the bound off. */
export function createWarmBatches(redis: RedisClient, keyPrefix: string, lookups: WarmLookups, maxBacklog: number, clock: Clock): WarmBatches {
  const keys = createKeys(keyPrefix);

  return {
    async start(chatIds, force) {
      const batchId = randomUUID();
      // The clock the workers write resolvedAt with: a batch's progress compares the two.
      const createdAt = clock();
      const stale = await lookups.stale(chatIds, force, createdAt);
      if (maxBacklog > 0 && stale.length > 0) {
        const waiting = await lookups.waiting();
        if (waiting + stale.length > maxBacklog) throw new WarmBacklogFull(waiting, maxBacklog);
      }
      const record = keys.batch(batchId);
      const ids = keys.batchIds(batchId);
      await redis
        .multi()
        .hset(record, { createdAt, force: force ? '1' : '0', total: chatIds.length })
        .expire(record, LIFETIMES.warmBatchSeconds)
        .rpush(ids, ...chatIds)
        .expire(ids, LIFETIMES.warmBatchSeconds)
        .exec();
      await lookups.enqueue(stale, force, batchId);
      return batchId;
    },

    async status(batchId) {
      const [record, chatIds, failed] = await Promise.all([
        redis.hgetall(keys.batch(batchId)),
        redis.lrange(keys.batchIds(batchId), 0, -1),
        redis.smembers(keys.batchFailed(batchId)),
      ]);
      if (!record.createdAt) return undefined;
      const createdAt = Number(record.createdAt);
      const force = record.force === '1';
      const failedSet = new Set(failed);
      const status: BatchStatus = { total: chatIds.length, done: 0, withAvatar: 0, noAvatar: 0, private: 0, notOnWhatsapp: 0, failed: 0, pending: 0 };
      const fields = await lookups.freshness(chatIds);
      chatIds.forEach((chatId, i) => {
        const record = fields[i];
        const answer = record?.status;
        // Answered for this batch: resolved since it started, or (without force) already fresh then.
        const answered = record !== undefined && (record.resolvedAt >= createdAt || (!force && record.freshUntil > createdAt));
        if (answered && answer === 'ok') status.withAvatar++;
        else if (answered && answer === 'no-avatar') status.noAvatar++;
        else if (answered && answer === 'private') status.private++;
        else if (answered) status.notOnWhatsapp++;
        else if (failedSet.has(chatId)) status.failed++;
        else status.pending++;
      });
      status.done = status.total - status.pending;
      return status;
    },
  };
}
