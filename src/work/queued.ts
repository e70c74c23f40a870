import type { Job, JobsOptions, Queue, QueueEvents } from 'bullmq';
import { servedFrom } from '../avatar/store';
import { afterFirstAttempt, onceAt, PRIORITY, renderKey, resolveKey, type JobOutcome, type RenderJob, type ResolveJob } from '../queue/jobs';
import type { AvatarQueueEvents, AvatarQueues } from '../queue/queues';
import type { RenderOutcome, ResolveOutcome, WaitOutcome } from './outcome';

/** How a first attempt made in a serving process (see ResolveHere) failed, for the job that takes over. */
export interface FailedAttempt {
  failed: string;
  /** It was the last attempt: the job records the failure (kept, counted, logged) without a call. */
  final: boolean;
}

/** Who waits for a resolve job: a page view (interactive, waited for) or nobody (a refresh, in the background). */
export type ResolvePriority = 'interactive' | 'background';

/** Work done by the workers, through the queue: one job per piece of work across every process. */
export interface QueuedWork {
  /**
   * A resolve job. Interactive: within the interactive backlog, waited for, with the record its worker wrote
   * when it hands one. Background: behind page views' lookups, nobody waits ('finished' once it is queued).
   * After a `firstAttempt` made in place: the attempts left, after the first backoff (or the failure recorded).
   */
  resolve(priority: ResolvePriority, chatId: string, firstAttempt?: FailedAttempt): Promise<ResolveOutcome>;
  /** A render job, waited for (its bytes stay in the store: the caller reads them). */
  render(job: RenderJob): Promise<RenderOutcome>;
}

export interface QueuedWorkOptions {
  maxWaitMs: number;
  /**
   * Waiting interactive jobs per queue beyond which nothing new is enqueued (the caller gets `backlog` at once);
   * 0 turns a check off. Warm jobs have their own bound.
   */
  maxBacklog: { resolve: number; render: number };
}

/** How long a measured backlog is trusted, so a burst of misses costs one count, not one each. */
const BACKLOG_CHECK_MS = 500;

/**
 * The queue adapter of Ensure. A deduplication id makes one job per piece of work across all processes; a
 * resolve job returns the record it wrote (JobOutcome), so its waiters need not read it back.
 */
export function createQueuedWork(queues: AvatarQueues, events: AvatarQueueEvents, { maxWaitMs, maxBacklog }: QueuedWorkOptions): QueuedWork {
  // Last measured backlog per queue, plus what this process added since.
  const backlog = new Map<string, { waiting: Promise<number>; at: number }>();

  async function backlogFull(queue: Queue<unknown, JobOutcome>): Promise<boolean> {
    const limit = queue === (queues.resolve as Queue<unknown, JobOutcome>) ? maxBacklog.resolve : maxBacklog.render;
    if (limit <= 0) return false;
    let known = backlog.get(queue.name);
    if (!known || Date.now() - known.at >= BACKLOG_CHECK_MS) {
      // Interactive jobs only: warm batches wait behind them and must not refuse a page view.
      const waiting = queue.getCountsPerPriority([PRIORITY.interactive]).then((counts) => counts[PRIORITY.interactive] ?? 0);
      known = { waiting, at: Date.now() };
      backlog.set(queue.name, known);
      known.waiting.catch(() => backlog.delete(queue.name));
    }
    if ((await known.waiting) >= limit) return true;
    known.waiting = known.waiting.then((n) => n + 1);
    return false;
  }

  /** The job's return value, or how the wait ended without one. */
  async function addAndWait<T>(queue: Queue<T, JobOutcome>, queueEvents: QueueEvents, key: string, data: T, options: JobsOptions = {}): Promise<JobOutcome | WaitOutcome> {
    if (await backlogFull(queue as Queue<unknown, JobOutcome>)) return 'backlog';
    // A job already doing this work is returned instead of a new one, and waited for.
    const job = (await queue.add(queue.name as never, data as never, { ...onceAt(key, PRIORITY.interactive), ...options })) as Job<T, JobOutcome>;
    try {
      return (await job.waitUntilFinished(queueEvents, maxWaitMs)) ?? 'finished';
    } catch (err) {
      // A job removed on completion before we listened is reported as an error too: the caller reads the store.
      return /timed out/.test((err as Error).message) ? 'timeout' : 'failed';
    }
  }

  /** The job of a chatId's resolve, and its options, after what a first attempt made in place did. */
  function resolveJob(chatId: string, firstAttempt: FailedAttempt | undefined): [ResolveJob, JobsOptions] {
    if (!firstAttempt) return [{ chatId }, {}];
    if (firstAttempt.final) return [{ chatId, failedHere: firstAttempt.failed }, { attempts: 1 }];
    return [{ chatId }, afterFirstAttempt(queues.resolve.defaultJobOptions)];
  }

  return {
    async resolve(priority, chatId, firstAttempt) {
      const [data, options] = resolveJob(chatId, firstAttempt);
      if (priority === 'background') {
        await queues.resolve.add('resolve', data, { ...onceAt(resolveKey(chatId), PRIORITY.background), ...options });
        return 'finished';
      }
      const done = await addAndWait(queues.resolve, events.resolve, resolveKey(chatId), data, options);
      if (typeof done === 'string') return done;
      const record = servedFrom(done.record);
      return record ? { record } : 'finished';
    },
    async render(job) {
      const done = await addAndWait(queues.render, events.render, renderKey(job), job);
      return typeof done === 'string' ? done : 'finished';
    },
  };
}
