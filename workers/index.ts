import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AvatarStore } from '../src/avatar/store';
import type { Config } from '../src/config';
import { createGreenApiClient } from '../src/greenapi/client';
import { createDownloader } from '../src/images/download';
import type { Logger } from '../src/logger';
import { QUEUE_NAMES, type JobOutcome, type RenderJob, type ResolveJob } from '../src/queue/jobs';
import { createAvatarPipeline } from './avatar-pipeline';
import { createRenderProcessor, createResolveProcessor } from './processors';

export interface WorkerDeps {
  config: Config;
  /** A retry-forever connection (see createQueueRedis); BullMQ duplicates it for blocking reads. */
  connection: Redis;
  store: AvatarStore;
  logger: Logger;
}

export interface AvatarWorkers {
  /** Finish the jobs in hand, take no new ones. */
  close(): Promise<void>;
}

export async function startWorkers({ config, connection, store, logger }: WorkerDeps): Promise<AvatarWorkers> {
  const prefix = config.redis.keyPrefix;
  const pipeline = createAvatarPipeline({
    store,
    greenApi: createGreenApiClient(config.greenApi),
    downloader: createDownloader(config.source),
    logger,
    options: {
      avatarTtlSeconds: config.ttl.avatarSeconds,
      negativeTtlSeconds: config.ttl.negativeSeconds,
      imageTtlSeconds: config.ttl.imageSeconds,
      maxPixels: config.source.maxPixels,
      defaultSize: config.defaultSize,
      defaultFormat: config.defaultFormat,
    },
  });
  const resolveQueue = new Queue<ResolveJob, JobOutcome>(QUEUE_NAMES.resolve, { connection, prefix });
  const deps = {
    store,
    pipeline,
    pauseResolve: (ms: number) => resolveQueue.rateLimit(ms),
    failureBackoffSeconds: config.failureBackoffSeconds,
  };

  const resolveWorker = new Worker<ResolveJob, JobOutcome>(QUEUE_NAMES.resolve, createResolveProcessor(deps), {
    connection,
    prefix,
    concurrency: config.worker.concurrency,
    // GetAvatar's own limit, shared through Redis by every worker process.
    limiter: { max: config.greenApi.ratePerSec, duration: 1000 },
  });
  const renderWorker = new Worker<RenderJob, JobOutcome>(QUEUE_NAMES.render, createRenderProcessor(deps), {
    connection,
    prefix,
    concurrency: config.worker.renderConcurrency,
  });

  for (const worker of [resolveWorker, renderWorker]) {
    worker.on('failed', (job, err) => {
      const final = !job || job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError';
      logger[final ? 'error' : 'warn']({ queue: worker.name, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, final ? 'job failed' : 'job attempt failed');
    });
    worker.on('error', (err) => logger.error({ queue: worker.name, err: err.message }, 'worker error'));
  }
  await Promise.all([resolveWorker.waitUntilReady(), renderWorker.waitUntilReady()]);

  return {
    async close() {
      await Promise.all([resolveWorker.close(), renderWorker.close()]);
      await resolveQueue.close();
    },
  };
}
