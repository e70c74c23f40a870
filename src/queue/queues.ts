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

type JobSettings = Parameters<typeof jobDefaults>[0] & { failedKeep: number };

/**
 * The one definition of each queue, whoever adds to it (the API, the keep-fresh job, Green API's notifications):
 * the same options everywhere, or a job id taken by one producer would stay taken for the others.
 */
export const resolveQueue = (connection: RedisClient, prefix: string, jobs: JobSettings) =>
  new Queue<ResolveJob, JobOutcome>(QUEUE_NAMES.resolve, { connection, prefix, defaultJobOptions: jobDefaults(jobs) });

/** Repeated jobs (keep-fresh, retention): kept only when they fail, for the dashboard. */
export const maintenanceQueue = (connection: RedisClient, prefix: string, jobs: JobSettings) =>
  new Queue(QUEUE_NAMES.maintenance, { connection, prefix, defaultJobOptions: { removeOnComplete: true, removeOnFail: jobs.failedKeep } });

/** Producer side of the queues. `connection` should fail fast (see createCacheRedis): it serves requests. */
export function createQueues(connection: RedisClient, prefix: string, jobs: JobSettings): AvatarQueues {
  const resolve = resolveQueue(connection, prefix, jobs);
  const render = new Queue<RenderJob, JobOutcome>(QUEUE_NAMES.render, { connection, prefix, defaultJobOptions: jobDefaults(jobs) });
  const maintenance = maintenanceQueue(connection, prefix, jobs);
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
