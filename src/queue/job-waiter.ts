import type { Job, Queue, QueueEvents } from 'bullmq';
import { PRIORITY, renderJobId, resolveJobId, type JobOutcome, type RenderJob } from './jobs';
import type { AvatarQueueEvents, AvatarQueues } from './queues';

/** How a wait ended. Whatever it says, the caller reads the answer from Redis again. */
export type WaitOutcome = 'finished' | 'failed' | 'timeout';

export interface JobWaiter {
  /** Enqueue (or join) the resolve job for a chatId and wait for it, at most `waitMs`. */
  resolve(chatId: string, waitMs: number): Promise<WaitOutcome>;
  /** Enqueue (or join) a render job and wait for it, at most `waitMs`. */
  render(job: RenderJob, waitMs: number): Promise<WaitOutcome>;
  /** Enqueue a background refresh of a stale answer; no wait. */
  refresh(chatId: string): Promise<void>;
  /** Whether this process already waits for a resolve of the chatId (a new request would join it). */
  isResolving(chatId: string): boolean;
}

function timer(ms: number): { promise: Promise<WaitOutcome>; cancel(): void } {
  let handle: NodeJS.Timeout;
  const promise = new Promise<WaitOutcome>((resolve) => {
    handle = setTimeout(() => resolve('timeout'), ms);
  });
  return { promise, cancel: () => clearTimeout(handle) };
}

/**
 * Enqueue-and-wait with two layers of deduplication: a deterministic jobId makes one job per key across
 * all processes, and one promise per key in this process makes concurrent requests share one wait.
 */
export function createJobWaiter(queues: AvatarQueues, events: AvatarQueueEvents, maxWaitMs: number): JobWaiter {
  const waits = new Map<string, Promise<WaitOutcome>>();

  async function addAndWait<T>(queue: Queue<T, JobOutcome>, queueEvents: QueueEvents, jobId: string, data: T): Promise<WaitOutcome> {
    const job = (await queue.add(queue.name as never, data as never, { jobId, priority: PRIORITY.interactive })) as Job<T, JobOutcome>;
    try {
      await job.waitUntilFinished(queueEvents, maxWaitMs);
      return 'finished';
    } catch (err) {
      // A job removed on completion before we listened is reported as an error too: the re-read decides.
      return /timed out/.test((err as Error).message) ? 'timeout' : 'failed';
    }
  }

  function shared(jobId: string, start: () => Promise<WaitOutcome>, waitMs: number): Promise<WaitOutcome> {
    let wait = waits.get(jobId);
    if (!wait) {
      wait = start().finally(() => waits.delete(jobId));
      waits.set(jobId, wait);
    }
    const own = timer(waitMs);
    return Promise.race([wait, own.promise]).finally(own.cancel);
  }

  return {
    resolve(chatId, waitMs) {
      const jobId = resolveJobId(chatId);
      return shared(jobId, () => addAndWait(queues.resolve, events.resolve, jobId, { chatId }), waitMs);
    },
    render(job, waitMs) {
      const jobId = renderJobId(job);
      return shared(jobId, () => addAndWait(queues.render, events.render, jobId, job), waitMs);
    },
    async refresh(chatId) {
      await queues.resolve.add('resolve', { chatId }, { jobId: resolveJobId(chatId), priority: PRIORITY.background });
    },
    isResolving: (chatId) => waits.has(resolveJobId(chatId)),
  };
}
