import type { Job, JobsOptions, Queue, QueueEvents } from 'bullmq';
import { afterFirstAttempt, onceAt, PRIORITY, renderKey, resolveKey, type JobOutcome, type RenderJob, type ResolveJob } from './jobs';
import type { AvatarQueueEvents, AvatarQueues } from './queues';
import type { ContactRecord, VariantName } from '../avatar/store';

/**
 * How a wait ended. Whatever it says, the caller reads the answer from Redis again.
 * `backlog`: the queue was too long to add to; nothing was enqueued.
 */
export type WaitOutcome = 'finished' | 'failed' | 'timeout' | 'backlog';

/** A variant this process rendered (and stored) itself: its bytes, which the waiting requests serve without reading them back. */
export interface Rendered {
  bytes: Buffer;
}

/**
 * A contact this process resolved (and stored) itself: the record it wrote, and the default thumbnail when it
 * rendered one, which the waiting requests serve without reading them back.
 */
export interface Resolved {
  record: ContactRecord;
  thumbnail?: VariantName & { bytes: Buffer };
}

/** How a resolve's wait ended: as a job's, or with what it produced when it ran here. */
export type ResolveOutcome = WaitOutcome | Resolved;

/** How a render's wait ended: as a job's, or with the bytes when the render ran here. */
export type RenderOutcome = WaitOutcome | Rendered;

export interface JobWaiter {
  /** Resolve a chatId (in this process when it can: see ResolveHere; else by a job) and wait, at most `waitMs`. */
  resolve(chatId: string, waitMs: number): Promise<ResolveOutcome>;
  /** Render a variant (in this process when it can: see RenderHere; else by a render job) and wait, at most `waitMs`. */
  render(job: RenderJob, waitMs: number): Promise<RenderOutcome>;
  /** Enqueue a background refresh of a stale answer; no wait. */
  refresh(chatId: string): Promise<void>;
  /** Whether this process already waits for a resolve of the chatId (a new request would join it). */
  isResolving(chatId: string): boolean;
  /** Whether this process already waits for this render (a new request would join it). */
  isRendering(job: RenderJob): boolean;
}

function timer(ms: number): { promise: Promise<'timeout'>; cancel(): void } {
  let handle: NodeJS.Timeout;
  const promise = new Promise<'timeout'>((resolve) => {
    handle = setTimeout(() => resolve('timeout'), ms);
  });
  return { promise, cancel: () => clearTimeout(handle) };
}

/**
 * A render done in this process instead of through the queue (the embedded role, where this process also
 * runs the workers): 'queue' when it cannot be done here (see workers/render-here).
 */
export type RenderHere = (job: RenderJob) => Promise<Rendered | 'failed' | 'queue'>;

/**
 * A miss resolved in this process instead of through the queue (the embedded role): 'queue' when it cannot be
 * done here (see workers/resolve-here). `failed`: its attempt failed; a resolve job makes the attempts left, or,
 * when it was the `final` one, records the failure.
 */
export type ResolveHere = (chatId: string) => Promise<Resolved | 'queue' | { failed: string; final: boolean }>;

export interface JobWaiterOptions {
  maxWaitMs: number;
  /**
   * Waiting interactive jobs per queue beyond which nothing new is enqueued (the caller gets `backlog` at once);
   * 0 turns a check off. Warm jobs have their own bound.
   */
  maxBacklog: { resolve: number; render: number };
  /** Where new variants are rendered without a job, when this process runs the workers. */
  renderHere?: RenderHere;
  /** Where misses are resolved without a job, when this process runs the workers. */
  resolveHere?: ResolveHere;
}

/** One promise per key for work in flight in this process: a caller joins it, and waits at most its own time. */
function sharedWaits<T>() {
  const waits = new Map<string, Promise<T>>();
  return {
    join(key: string, start: () => Promise<T>, waitMs: number): Promise<T | 'timeout'> {
      let wait = waits.get(key);
      if (!wait) {
        wait = start().finally(() => waits.delete(key));
        waits.set(key, wait);
      }
      const own = timer(waitMs);
      return Promise.race([wait, own.promise]).finally(own.cancel);
    },
    has: (key: string) => waits.has(key),
  };
}

/** How long a measured backlog is trusted, so a burst of misses costs one count, not one each. */
const BACKLOG_CHECK_MS = 500;

/**
 * Enqueue-and-wait with two layers of deduplication: a deduplication id makes one job per key across
 * all processes, and one promise per key in this process makes concurrent requests share one wait.
 * A resolve or render this process can do itself (resolveHere, renderHere) is shared the same way, without a job.
 */
export function createJobWaiter(queues: AvatarQueues, events: AvatarQueueEvents, { maxWaitMs, maxBacklog, renderHere, resolveHere }: JobWaiterOptions): JobWaiter {
  const resolves = sharedWaits<ResolveOutcome>();
  const renders = sharedWaits<RenderOutcome>();
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

  async function addAndWait<T>(queue: Queue<T, JobOutcome>, queueEvents: QueueEvents, key: string, data: T, options: JobsOptions = {}): Promise<WaitOutcome> {
    if (await backlogFull(queue as Queue<unknown, JobOutcome>)) return 'backlog';
    // A job already doing this work is returned instead of a new one, and waited for.
    const job = (await queue.add(queue.name as never, data as never, { ...onceAt(key, PRIORITY.interactive), ...options })) as Job<T, JobOutcome>;
    try {
      await job.waitUntilFinished(queueEvents, maxWaitMs);
      return 'finished';
    } catch (err) {
      // A job removed on completion before we listened is reported as an error too: the re-read decides.
      return /timed out/.test((err as Error).message) ? 'timeout' : 'failed';
    }
  }

  type Enqueue = (data?: ResolveJob, options?: JobsOptions) => Promise<ResolveOutcome>;
  /** A page view's resolve job (within the interactive backlog), waited for. */
  const interactiveJob = (chatId: string): Enqueue => (data = { chatId }, options) => addAndWait(queues.resolve, events.resolve, resolveKey(chatId), data, options);
  /** A refresh's job, behind page views' lookups; nobody waits for it. */
  const backgroundJob = (chatId: string): Enqueue => async (data = { chatId }, options) => {
    await queues.resolve.add('resolve', data, { ...onceAt(resolveKey(chatId), PRIORITY.background), ...options });
    return 'finished';
  };

  /** A resolve in this process when it can (resolveHere); else, or to make the attempts left, a job. */
  function startResolve(chatId: string, enqueue: Enqueue): Promise<ResolveOutcome> {
    if (!resolveHere) return enqueue();
    return resolveHere(chatId).then((done) => {
      if (done === 'queue') return enqueue();
      if ('record' in done) return done;
      if (done.final) return enqueue({ chatId, failedHere: done.failed }, { attempts: 1 });
      return enqueue({ chatId }, afterFirstAttempt(queues.resolve.defaultJobOptions));
    });
  }

  return {
    resolve: (chatId, waitMs) => resolves.join(resolveKey(chatId), () => startResolve(chatId, interactiveJob(chatId)), waitMs),
    render(job, waitMs) {
      const key = renderKey(job);
      const enqueue = () => addAndWait(queues.render, events.render, key, job);
      const start = renderHere ? () => renderHere(job).then((done): RenderOutcome | Promise<WaitOutcome> => (done === 'queue' ? enqueue() : done)) : enqueue;
      return renders.join(key, start, waitMs);
    },
    async refresh(chatId) {
      const key = resolveKey(chatId);
      if (!resolveHere) {
        await backgroundJob(chatId)();
        return;
      }
      // In place, like a miss (no job's hop), but nobody waits: a refresh that cannot be done here becomes a
      // background job. Requests for the contact meanwhile join it, as they join a miss.
      if (!resolves.has(key)) void resolves.join(key, () => startResolve(chatId, backgroundJob(chatId)), maxWaitMs).catch(() => undefined);
    },
    isResolving: (chatId) => resolves.has(resolveKey(chatId)),
    isRendering: (job) => renders.has(renderKey(job)),
  };
}
