import { RateLimitError } from 'bullmq';
import type { ResolveHere } from '../src/work/ensure';
import { isLastAttempt, type ReportFailure } from './job-errors';
import type { ResolveOnce } from './resolve-once';

export interface ResolveHereDeps {
  resolveOnce: ResolveOnce;
  /** JOB_ATTEMPTS: an attempt here is the chatId's first. */
  attempts: number;
  reportFailure: ReportFailure;
}

/**
 * A request's miss resolved in the process that serves it, when that process also runs the workers
 * (`npm start`): GetAvatar, download and render on the workers' pipeline, without a resolve job's hop (add,
 * fetch, complete, the completion event, the wait: about 40 of the 76 Redis commands a cold avatar cost, as
 * Redis's INFO commandstats counts them). What a job guarantees still holds: one GetAvatar per chatId across
 * processes (the claim), the per-instance call rate (the pool's slots), a 429's pause, JOB_ATTEMPTS (a failure
 * here is the first attempt; a resolve job makes the others, after the backoff) and the failure marker.
 */
export function createResolveHere({ resolveOnce, attempts, reportFailure }: ResolveHereDeps): ResolveHere {
  const isFinal = (err: Error) => isLastAttempt(err, 1, attempts);
  return async (chatId) => {
    try {
      const done = await resolveOnce(chatId, { unlessPaused: true, isFinal });
      return done === 'busy' ? 'queue' : done;
    } catch (err) {
      // A 429 paused every resolve and used no attempt: a resolve job waits the pause out.
      if (err instanceof RateLimitError) return 'queue';
      const final = isFinal(err as Error);
      // A last failure is logged and counted by the failed job that records it.
      if (!final) reportFailure({ queue: 'resolve', chatId, attempt: 1, final, err: err as Error });
      return { failed: (err as Error).message, final };
    }
  };
}
