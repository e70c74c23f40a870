import { RateLimitError, UnrecoverableError, type Job } from 'bullmq';
import type { AvatarStore } from '../src/avatar/store';
import type { Clock } from '../src/clock';
import type { JobOutcome, RenderJob, ResolveJob } from '../src/queue/jobs';
import type { MarkBatchFailed } from '../src/warm/batches';
import type { AvatarPipeline } from './avatar-pipeline';
import { toJobError } from './job-errors';

export interface ProcessorDeps {
  store: AvatarStore;
  pipeline: AvatarPipeline;
  /** Pauses the resolve queue for everyone (an upstream 429). */
  pauseResolve(ms: number): Promise<void>;
  failureBackoffSeconds: number;
  markBatchFailed: MarkBatchFailed;
  clock: Clock;
}

/** This attempt is the job's last: BullMQ will not run it again. */
function isFinal(job: Job, err: Error): boolean {
  if (err instanceof RateLimitError) return false;
  return err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

export function createResolveProcessor({ store, pipeline, pauseResolve, failureBackoffSeconds, markBatchFailed, clock }: ProcessorDeps) {
  return async (job: Job<ResolveJob, JobOutcome>): Promise<JobOutcome> => {
    const { chatId, force, batchId } = job.data;
    // A late duplicate (the answer arrived meanwhile) costs no GetAvatar call; the read serves the resolve too.
    const cached = await store.readMeta(chatId);
    if (!force && cached && cached.freshUntil > clock()) return { status: cached.status };
    try {
      return { status: (await pipeline.resolve(chatId, { previous: cached })).status };
    } catch (err) {
      const jobError = await toJobError(err, pauseResolve);
      // Not an answer: only a short pause before anyone may spend another upstream call on this chatId.
      if (isFinal(job, jobError)) {
        await store.markFailed(chatId, failureBackoffSeconds);
        if (batchId) await markBatchFailed(batchId, chatId);
      }
      throw jobError;
    }
  };
}

export function createRenderProcessor({ store, pipeline, pauseResolve }: ProcessorDeps) {
  return async (job: Job<RenderJob, JobOutcome>): Promise<JobOutcome> => {
    const { chatId, hash, size, format } = job.data;
    if (await store.hasVariant(hash, size, format)) return { status: 'ok' };
    const meta = await store.readMeta(chatId);
    if (!meta || meta.status !== 'ok') return { status: meta?.status ?? 'no-answer' };
    try {
      // The answer may have moved on to a new picture since the job was queued: render the current one.
      const current = await pipeline.sourceFor(chatId, meta);
      await pipeline.render(current.meta.hash, current.source, size, format);
      return { status: 'ok' };
    } catch (err) {
      throw await toJobError(err, pauseResolve);
    }
  };
}
