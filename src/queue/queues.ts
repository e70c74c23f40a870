import { Queue, QueueEvents } from 'bullmq';
import type { RedisClient } from '../redis';
import { jobDefaults, QUEUE_NAMES, type JobOutcome, type RenderJob, type ResolveJob } from './jobs';

export interface AvatarQueues {
  resolve: Queue<ResolveJob, JobOutcome>;
  render: Queue<RenderJob, JobOutcome>;
  /** Keep-fresh runs here; the API only looks at it (dashboard, metrics). */
  maintenance: Queue;
  close(): Promise<void>;
}

/** Producer side of the queues. `connection` should fail fast (see createCacheRedis): it serves requests. */
export function createQueues(connection: RedisClient, prefix: string, jobs: Parameters<typeof jobDefaults>[0]): AvatarQueues {
  const options = { connection, prefix, defaultJobOptions: jobDefaults(jobs) };
  const resolve = new Queue<ResolveJob, JobOutcome>(QUEUE_NAMES.resolve, options);
  const render = new Queue<RenderJob, JobOutcome>(QUEUE_NAMES.render, options);
  const maintenance = new Queue(QUEUE_NAMES.maintenance, { connection, prefix });
  // Every wait for a job listens for the queue closing: one listener per concurrent miss is expected.
  resolve.setMaxListeners(0);
  render.setMaxListeners(0);
  return {
    resolve,
    render,
    maintenance,
    async close() {
      await Promise.all([resolve.close(), render.close(), maintenance.close()]);
    },
  };
}

export interface AvatarQueueEvents {
  resolve: QueueEvents;
  render: QueueEvents;
  /** Resolves once both listen (never, while Redis is down: waits start listening then). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Completion events, so the API can wait for a job it enqueued. Blocking reads: a retry-forever connection. */
export function createQueueEvents(connection: RedisClient, prefix: string): AvatarQueueEvents {
  const resolve = new QueueEvents(QUEUE_NAMES.resolve, { connection, prefix });
  const render = new QueueEvents(QUEUE_NAMES.render, { connection, prefix });
  return {
    resolve,
    render,
    ready: Promise.all([resolve.waitUntilReady(), render.waitUntilReady()]).then(() => undefined),
    async close() {
      await Promise.all([resolve.close(), render.close()]);
    },
  };
}
