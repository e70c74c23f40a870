import type { DefaultJobOptions, JobsOptions } from 'bullmq';
import type { ServedRecord } from '../avatar/store';
import type { Format } from '../avatar/variant';

/** Job names, payloads and ids: the contract between the API and the workers. No secrets in job data. */

export const QUEUE_NAMES = { resolve: 'resolve', render: 'render', maintenance: 'maintenance', webhook: 'webhook' } as const;

/** The repeatable keep-fresh job (BullMQ job scheduler) on the maintenance queue. */
export const REFRESH_AHEAD_SCHEDULER = 'refresh-ahead';
/** The repeatable retention job of the durable store (STORAGE_RETENTION_DAYS), on the maintenance queue. */
export const RETENTION_SCHEDULER = 'storage-retention';

export interface ResolveJob {
  chatId: string;
  /** Call GetAvatar even if the cached answer is fresh (a forced warm, a refresh ahead of expiry). */
  force?: boolean;
  /** The warm batch that asked, so a final failure is counted there. */
  batchId?: string;
  /**
   * Why the chatId's last attempt, made in a serving process (workers/resolve-here), failed: the job fails
   * with it at once, without a call, so it is kept, counted and logged like any failed resolve job.
   */
  failedHere?: string;
}

export interface RenderJob {
  chatId: string;
  hash: string;
  size: number;
  format: Format;
}

/** What a job returns: the record's status, and for a resolve job the record it wrote, for the requests waiting. */
export interface JobOutcome {
  status: string;
  record?: ServedRecord;
}

/**
 * The work a job does, as a deduplication id: while a job for it is waiting or running, adding another
 * joins that one (across every process). Job ids are BullMQ's own, so failed jobs can be kept for
 * inspection while the same work may run again later.
 */
export const resolveKey = (chatId: string): string => `resolve-${chatId}`;
/** A variant is drawn into its chatId's answer: two contacts who share a picture each have their own. */
export const renderKey = (job: RenderJob): string => `render-${job.chatId}-${job.hash.slice(0, 32)}-${job.size}-${job.format}`;

/** Options of a job that does `key`'s work once at a time. */
export const onceAt = (key: string, priority: number): JobsOptions => ({ deduplication: { id: key }, priority });

/**
 * Interactive misses go first; admin refreshes next (never counted in the interactive backlog); background
 * refreshes and warming wait behind them (lower = sooner).
 */
export const PRIORITY = { interactive: 1, refresh: 5, background: 10 } as const;

/**
 * Completed jobs are removed (the answer lives in the cache, not in the job); the last `failedKeep` failed
 * jobs are kept for inspection (dashboard, metrics). A final failure also leaves a short-lived failure marker,
 * so requests do not start the same failing work again at once.
 */
export function jobDefaults({ attempts, backoffMs, failedKeep }: { attempts: number; backoffMs: number; failedKeep: number }): DefaultJobOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffMs, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { count: failedKeep },
  };
}

/** Options of a job that makes the attempts left after a first one made elsewhere failed: after the first backoff. */
export function afterFirstAttempt({ attempts = 1, backoff }: JobsOptions): JobsOptions {
  const delay = typeof backoff === 'number' ? backoff : (backoff?.delay ?? 0);
  return { attempts: Math.max(1, attempts - 1), delay };
}
