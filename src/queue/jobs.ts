import type { DefaultJobOptions } from 'bullmq';
import type { Format } from '../avatar/variant';

/** Job names, payloads and ids: the contract between the API and the workers. No secrets in job data. */

export const QUEUE_NAMES = { resolve: 'resolve', render: 'render', maintenance: 'maintenance' } as const;

/** The repeatable keep-fresh job (BullMQ job scheduler) on the maintenance queue. */
export const REFRESH_AHEAD_SCHEDULER = 'refresh-ahead';

export interface ResolveJob {
  chatId: string;
  /** Call GetAvatar even if the cached answer is fresh (a forced warm, a refresh ahead of expiry). */
  force?: boolean;
  /** The warm batch that asked, so a final failure is counted there. */
  batchId?: string;
}

export interface RenderJob {
  chatId: string;
  hash: string;
  size: number;
  format: Format;
}

export interface JobOutcome {
  status: string;
}

/**
 * Deterministic ids, so one job per chatId (or per variant) exists at a time across every process.
 * BullMQ refuses ids that look like integers or contain ':'; chatIds are `<digits>@c.us`, hashes are hex.
 */
export const resolveJobId = (chatId: string): string => `resolve-${chatId}`;
export const renderJobId = (job: Pick<RenderJob, 'hash' | 'size' | 'format'>): string =>
  `render-${job.hash.slice(0, 32)}-${job.size}-${job.format}`;

/** Interactive misses go first; background refreshes and warming wait behind them (lower = sooner). */
export const PRIORITY = { interactive: 1, background: 10 } as const;

/**
 * Finished jobs are removed, so the same deterministic id can run again later (a refresh). The answer
 * lives in the cache, not in the job; a final failure leaves a short-lived failure marker instead.
 */
export function jobDefaults(attempts: number, backoffMs: number): DefaultJobOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffMs, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: true,
  };
}
