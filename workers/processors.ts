import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { servedPart, type AvatarStore } from '../src/avatar/store';
import type { JobOutcome, RenderJob, ResolveJob } from '../src/queue/jobs';
import type { AvatarPipeline } from './avatar-pipeline';
import { isLastAttempt, MAX_RATE_LIMITED_WAITS, toJobError } from './job-errors';
import type { ResolveOnce } from './resolve-once';

export interface RenderProcessorDeps {
  store: AvatarStore;
  pipeline: AvatarPipeline;
  /** Pauses every resolve (an upstream 429). */
  pauseResolve(ms: number): Promise<void>;
}

/** This attempt is the job's last: BullMQ will not run it again. */
const isFinal = (job: Job, err: Error) => isLastAttempt(err, job.attemptsMade + 1, job.opts.attempts ?? 1);

/**
 * How long a resolve job waits while another process resolves its chatId (it then finds the answer fresh):
 * 100 ms, doubling each time it finds the chatId still busy (a slow upstream), up to a second.
 */
const busyDelayMs = (job: Job) => Math.min(1000, 100 * 2 ** Math.max(0, job.attemptsStarted - job.attemptsMade - 1));

export function createResolveProcessor(resolveOnce: ResolveOnce) {
  return async (job: Job<ResolveJob, JobOutcome>, token?: string): Promise<JobOutcome> => {
    const { chatId, force, batchId, failedHere } = job.data;
    if (failedHere) throw new UnrecoverableError(failedHere);
    // Runs that used no attempt so far (429s waited out, or waits for another process's resolve).
    const freeRuns = job.attemptsStarted - job.attemptsMade - 1;
    const outcome = await resolveOnce(chatId, { force, batchId, isFinal: (err) => isFinal(job, err), mayWaitOut: freeRuns < MAX_RATE_LIMITED_WAITS });
    // The record goes to the requests waiting for the job: they need not read it back.
    if (outcome !== 'busy') return { status: outcome.record.status, record: servedPart(outcome.record) };
    // Not an attempt: the job comes back once the other resolve is done.
    await job.moveToDelayed(Date.now() + busyDelayMs(job), token);
    throw new DelayedError();
  };
}

export function createRenderProcessor({ store, pipeline, pauseResolve }: RenderProcessorDeps) {
  return async (job: Job<RenderJob, JobOutcome>): Promise<JobOutcome> => {
    const { chatId, hash, size, format } = job.data;
    if (await store.hasVariant(chatId, hash, { size, format })) return { status: 'ok' };
    const meta = await store.readMeta(chatId);
    if (!meta || meta.status !== 'ok') return { status: meta?.status ?? 'no-answer' };
    try {
      // The answer may have moved on to a new picture since the job was queued: render the current one.
      const current = await pipeline.sourceFor(chatId, meta);
      await pipeline.render(chatId, current.meta.hash, current.source, size, format);
      return { status: 'ok' };
    } catch (err) {
      throw await toJobError(err, pauseResolve);
    }
  };
}
