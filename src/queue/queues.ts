import { Queue, QueueEvents } from 'bullmq';
import type { RedisClient } from '../redis';
import { jobDefaults, QUEUE_NAMES, type JobOutcome, type RenderJob, type ResolveJob } from './jobs';

export interface AvatarQueues {
  resolve: Queue<ResolveJob, JobOutcome>;
  render: Queue<RenderJob, JobOutcome>;
  close(): Promise<void>;
}

/** Producer side of the queues. `connection` should fail fast (see createCacheRedis): it serves requests. */
export function createQueues(connection: RedisClient, prefix: string, jobs: { attempts: number; backoffMs: number }): AvatarQueues {
  const options = { connection, prefix, defaultJobOptions: jobDefaults(jobs.attempts, jobs.backoffMs) };
  const resolve = new Queue<ResolveJob, JobOutcome>(QUEUE_NAMES.resolve, options);
  const render = new Queue<RenderJob, JobOutcome>(QUEUE_NAMES.render, options);
  // Every wait for a job listens for the queue closing: one listener per concurrent miss is expected.
  resolve.setMaxListeners(0);
  render.setMaxListeners(0);
  return {
    resolve,
    render,
    async close() {
      await Promise.all([resolve.close(), render.close()]);
    },
  };
}

export interface AvatarQueueEvents {
  resolve: QueueEvents;
  render: QueueEvents;
  close(): Promise<void>;
}

/** Completion events, so the API can wait for a job it enqueued. Blocking reads: a retry-forever connection. */
export async function createQueueEvents(connection: RedisClient, prefix: string): Promise<AvatarQueueEvents> {
  const resolve = new QueueEvents(QUEUE_NAMES.resolve, { connection, prefix });
  const render = new QueueEvents(QUEUE_NAMES.render, { connection, prefix });
  await Promise.all([resolve.waitUntilReady(), render.waitUntilReady()]);
  return {
    resolve,
    render,
    async close() {
      await Promise.all([resolve.close(), render.close()]);
    },
  };
}
