import type { AvatarStore, ContactRecord } from '../src/avatar/store';
import type { Clock } from '../src/clock';
import type { MarkBatchFailed } from '../src/warm/batches';
import type { AvatarPipeline } from './avatar-pipeline';
import type { Resolved } from '../src/work/outcome';
import { toJobError } from './job-errors';
import type { ResolveClaims } from './resolve-claims';

export interface ResolveOnceDeps {
  store: AvatarStore;
  pipeline: AvatarPipeline;
  claims: ResolveClaims;
  /** Pauses every resolve (an upstream 429). */
  pauseResolve(ms: number): Promise<void>;
  failureBackoffSeconds: number;
  markBatchFailed: MarkBatchFailed;
  clock: Clock;
}

export interface ResolveAttempt {
  /** Call GetAvatar even if the cached answer is fresh (a forced warm, a refresh ahead of expiry). */
  force?: boolean;
  /** The warm batch that asked, so a final failure is counted there. */
  batchId?: string;
  /** Refuse ('busy') while a 429's pause is on; resolve jobs wait it out in BullMQ's limiter instead. */
  unlessPaused?: boolean;
  /** Whether a failure (as toJobError maps it) is the chatId's last attempt. */
  isFinal(err: Error): boolean;
  /** Whether a 429 may still be waited out without using an attempt (false once a job waited out enough). */
  mayWaitOut?: boolean;
}

/**
 * One attempt at a chatId's answer, by a resolve job or in place. 'busy': another process is resolving the chatId
 * (see ResolveClaims). A late duplicate (the answer arrived meanwhile) costs no GetAvatar call. A failure is
 * thrown as toJobError maps it; a final one first leaves the failure marker, so requests do not start the
 * same failing work again at once.
 */
export type ResolveOnce = (chatId: string, attempt: ResolveAttempt) => Promise<Resolved<ContactRecord> | 'busy'>;

export function createResolveOnce({ store, pipeline, claims, pauseResolve, failureBackoffSeconds, markBatchFailed, clock }: ResolveOnceDeps): ResolveOnce {
  return async (chatId, { force, batchId, unlessPaused, isFinal, mayWaitOut }) => {
    // Claimed before the answer is read: a resolve that finished in between is seen, never repeated.
    const [release, cached] = await Promise.all([claims.claim(chatId, { unlessPaused }), store.readMeta(chatId)]);
    if (!release) return 'busy';
    try {
      if (!force && cached && cached.freshUntil > clock()) return { record: cached };
      return await pipeline.resolve(chatId, { previous: cached });
    } catch (err) {
      const jobError = await toJobError(err, pauseResolve, mayWaitOut);
      // Not an answer: only a short pause before anyone may spend another upstream call on this chatId.
      if (isFinal(jobError)) {
        await store.markFailed(chatId, failureBackoffSeconds);
        if (batchId) await markBatchFailed(batchId, chatId);
      }
      throw jobError;
    } finally {
      // Released before the waiting requests are answered (they no longer read the record back, so nothing else
      // would carry the release in its write): no command of this resolve is left in flight after it. A release
      // lost to a Redis error ends with the claim's own expiry.
      await release().catch(() => undefined);
    }
  };
}
