import { RateLimitError, UnrecoverableError } from 'bullmq';
import { GreenApiError } from '../src/greenapi/errors';
import { DownloadError } from '../src/images/download';
import { InvalidImageError } from '../src/images/render';
import type { Logger } from '../src/logger';
import type { Metrics } from '../src/metrics';

/** A 429 without Retry-After pauses this long. */
const DEFAULT_PAUSE_MS = 1000;
/**
 * The shortest pause after Green API's own 429, whatever Retry-After says (`Retry-After: 0` must not become a
 * tight loop of billed calls); no call slot free in this service's own limiter pauses only until one frees.
 */
const MIN_UPSTREAM_PAUSE_MS = 1000;
const MIN_PAUSE_MS = 50;

/** How many 429s one job waits out without using an attempt; after that a 429 is a transient failure. */
export const MAX_RATE_LIMITED_WAITS = 5;


/**
 * Maps a failure to what BullMQ should do with the job:
 *  - 429: pause every resolve (no attempt used), then run again; after MAX_RATE_LIMITED_WAITS of them
 *    (`mayWaitOut` false) the job's 429 is a transient failure: it uses an attempt, with backoff
 *  - a wrong token, instance or plan, a refused or broken image: fail now, retrying changes nothing
 *  - anything else (5xx, timeouts, WhatsApp-side reasons): retry with backoff
 */
export async function toJobError(err: unknown, pause: (ms: number) => Promise<void>, mayWaitOut = true): Promise<Error> {
  if (err instanceof GreenApiError) {
    if (err.kind === 'rate-limited') {
      await pause(Math.max(err.status === 429 ? MIN_UPSTREAM_PAUSE_MS : MIN_PAUSE_MS, err.retryAfterMs ?? DEFAULT_PAUSE_MS));
      return mayWaitOut ? new RateLimitError() : err;
    }
    if (err.kind !== 'transient') return new UnrecoverableError(err.message);
    return err;
  }
  if (err instanceof DownloadError && err.reason !== 'transient') return new UnrecoverableError(err.message);
  if (err instanceof InvalidImageError) return new UnrecoverableError(err.message);
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Whether a failed attempt was the job's last: unrecoverable, or `attempt` (counted from 1) used the last of
 * `attempts`. A 429's RateLimitError never is: it uses no attempt, wherever it is met (a job or in place).
 */
export function isLastAttempt(err: Error, attempt: number, attempts: number): boolean {
  if (err instanceof RateLimitError) return false;
  return err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || attempt >= attempts;
}

export interface FailedAttempt {
  queue: string;
  chatId?: string;
  jobId?: string;
  /** Attempts made so far, this one included. */
  attempt?: number;
  /** No attempt follows. */
  final: boolean;
  err: Error;
}

/** Logs a failed attempt (an error when it was the last) and counts final failures. */
export type ReportFailure = (failed: FailedAttempt) => void;

export function createReportFailure(logger: Logger, metrics: Metrics): ReportFailure {
  return ({ queue, chatId, jobId, attempt, final, err }) => {
    if (final) metrics.jobsFailed.inc({ queue });
    logger[final ? 'error' : 'warn']({ queue, jobId, chatId, attempt, err: err.message }, final ? 'job failed' : 'job attempt failed');
  };
}
