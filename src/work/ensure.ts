import { renderKey, resolveKey, type RenderJob } from '../queue/jobs';
import type { ContactRecord } from '../avatar/store';
import type { Rendered, RenderOutcome, Resolved, ResolveOutcome } from './outcome';
import type { FailedAttempt, QueuedWork, ResolvePriority } from './queued';

/**
 * Getting the work a request needs done: a contact resolved, a variant rendered. One interface over two
 * adapters, in this process (when it runs the workers: ResolveHere, RenderHere) or on the queue (QueuedWork),
 * with one outcome vocabulary (./outcome): what the work produced, or how the wait ended without it.
 */
export interface Ensure {
  /** Resolve a chatId (in this process when it can, else by a job) and wait, at most `waitMs`. */
  resolve(chatId: string, waitMs: number): Promise<ResolveOutcome>;
  /** Render a variant (in this process when it can, else by a render job) and wait, at most `waitMs`. */
  render(job: RenderJob, waitMs: number): Promise<RenderOutcome>;
  /** Refresh a stale record (in place when it can, else a background job); nobody waits. */
  refresh(chatId: string): Promise<void>;
  /** Whether this process already waits for a resolve of the chatId (a new request would join it). */
  isResolving(chatId: string): boolean;
  /** Whether this process already waits for this render (a new request would join it). */
  isRendering(job: RenderJob): boolean;
}

/**
 * The in-process adapter's render (see workers/render-here): 'queue' when it cannot be done here (no source
 * in the store, or the in-place slots are full).
 */
export type RenderHere = (job: RenderJob) => Promise<Rendered | 'failed' | 'queue'>;

/**
 * The in-process adapter's resolve (see workers/resolve-here): 'queue' when it cannot be done here; a failed
 * attempt is handed to a resolve job, which makes the attempts left or records the failure.
 */
export type ResolveHere = (chatId: string) => Promise<Resolved<ContactRecord> | 'queue' | FailedAttempt>;

export interface EnsureOptions {
  maxWaitMs: number;
  /** Present where this process runs the workers. */
  here?: { resolve: ResolveHere; render: RenderHere };
}

function timer(ms: number): { promise: Promise<'timeout'>; cancel(): void } {
  let handle: NodeJS.Timeout;
  const promise = new Promise<'timeout'>((resolve) => {
    handle = setTimeout(() => resolve('timeout'), ms);
  });
  return { promise, cancel: () => clearTimeout(handle) };
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

/**
 * Two layers of deduplication: the queue's (one job per piece of work across all processes) and one promise
 * per piece of work in this process, which concurrent requests share, whichever adapter does it.
 */
export function createEnsure(queued: QueuedWork, { maxWaitMs, here }: EnsureOptions): Ensure {
  const resolves = sharedWaits<ResolveOutcome>();
  const renders = sharedWaits<RenderOutcome>();

  /** A resolve in this process when it can; else, or to make the attempts left after it failed, a job. */
  function startResolve(chatId: string, priority: ResolvePriority): Promise<ResolveOutcome> {
    if (!here) return queued.resolve(priority, chatId);
    return here.resolve(chatId).then((done) => {
      if (done === 'queue') return queued.resolve(priority, chatId);
      if ('record' in done) return done;
      return queued.resolve(priority, chatId, done);
    });
  }

  function startRender(job: RenderJob): Promise<RenderOutcome> {
    if (!here) return queued.render(job);
    return here.render(job).then((done) => (done === 'queue' ? queued.render(job) : done));
  }

  return {
    resolve: (chatId, waitMs) => resolves.join(resolveKey(chatId), () => startResolve(chatId, 'interactive'), waitMs),
    render: (job, waitMs) => renders.join(renderKey(job), () => startRender(job), waitMs),
    async refresh(chatId) {
      if (!here) {
        await queued.resolve('background', chatId);
        return;
      }
      // In place, like a miss (no job's hop), but nobody waits: a refresh that cannot be done here becomes a
      // background job. Requests for the contact meanwhile join it, as they join a miss.
      const key = resolveKey(chatId);
      if (!resolves.has(key)) void resolves.join(key, () => startResolve(chatId, 'background'), maxWaitMs).catch(() => undefined);
    },
    isResolving: (chatId) => resolves.has(resolveKey(chatId)),
    isRendering: (job) => renders.has(renderKey(job)),
  };
}
