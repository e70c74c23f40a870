import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AvatarStore } from '../src/avatar/store';
import type { Config } from '../src/config';
import { createBreaker, guardWithBreaker } from '../src/greenapi/breaker';
import { createGreenApiClient } from '../src/greenapi/client';
import { instrumentGreenApi } from '../src/greenapi/instrumented';
import type { Metrics } from '../src/metrics';
import { createDownloader } from '../src/images/download';
import type { Logger } from '../src/logger';
import { QUEUE_NAMES, type JobOutcome, type RenderJob, type ResolveJob } from '../src/queue/jobs';
import { createWarmBatches } from '../src/warm/batches';
import { createAvatarPipeline } from './avatar-pipeline';
import { createRenderProcessor, createResolveProcessor } from './processors';

const RATE_SLOT_MARGIN = 1.05;

export interface WorkerDeps {
  config: Config;
  /** A retry-forever connection (see createQueueRedis); BullMQ duplicates it for blocking reads. */
  connection: Redis;
  /** The cache connection (breaker state lives there). */
  cache: Redis;
  metrics: Metrics;
  store: AvatarStore;
  logger: Logger;
}

export interface AvatarWorkers {
  /** Finish the jobs in hand, take no new ones. */
  close(): Promise<void>;
}

export async function startWorkers({ config, connection, cache, store, logger, metrics }: WorkerDeps): Promise<AvatarWorkers> {
  const prefix = config.redis.keyPrefix;
  const breaker = createBreaker(cache, prefix, config.greenApi.cooldowns);
  const greenApi = instrumentGreenApi(createGreenApiClient(config.greenApi), logger, metrics);
  const pipeline = createAvatarPipeline({
    store,
    metrics,
    greenApi: guardWithBreaker(greenApi, breaker, config.greenApi.idInstance, logger),
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
    batches: createWarmBatches(cache, prefix),
  };

  const resolveWorker = new Worker<ResolveJob, JobOutcome>(QUEUE_NAMES.resolve, createResolveProcessor(deps), {
    connection,
    prefix,
    concurrency: config.worker.concurrency,
    lockDuration: config.jobs.lockMs,
    stalledInterval: config.jobs.lockMs,
    // Seconds a worker blocks waiting for work; short, so a job put back after a 429 pause is taken up
    // when the pause ends rather than at the next 5-second poll.
    drainDelay: 1,
    // GetAvatar's own limit, shared through Redis by every worker process. One call per slot of 1/rate s
    // (plus a margin for network jitter) rather than `rate` calls per fixed window: a fixed window lets two
    // bursts meet at its edge, doubling the calls within some second.
    limiter: { max: 1, duration: Math.ceil((1000 / config.greenApi.ratePerSec) * RATE_SLOT_MARGIN) },
  });
  const renderWorker = new Worker<RenderJob, JobOutcome>(QUEUE_NAMES.render, createRenderProcessor(deps), {
    connection,
    prefix,
    concurrency: config.worker.renderConcurrency,
    lockDuration: config.jobs.lockMs,
    stalledInterval: config.jobs.lockMs,
  });

  for (const worker of [resolveWorker, renderWorker]) {
    worker.on('failed', (job, err) => {
      const final = !job || job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError';
      if (final) metrics.jobsFailed.inc({ queue: worker.name });
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
