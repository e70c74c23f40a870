import { Queue, Worker } from 'bullmq';
import type { AvatarStore } from '../src/avatar/store';
import type { Clock } from '../src/clock';
import type { Config } from '../src/config';
import { freshnessPolicy } from '../src/avatar/freshness';
import { createBreaker } from '../src/greenapi/breaker';
import { createInstancePool, RATE_SLOT_MARGIN } from '../src/greenapi/pool';
import { createGreenApiClient } from '../src/greenapi/client';
import { instrumentGreenApi } from '../src/greenapi/instrumented';
import type { Metrics } from '../src/metrics';
import { createDownloader } from '../src/images/download';
import type { Logger } from '../src/logger';
import { jobDefaults, QUEUE_NAMES, REFRESH_AHEAD_SCHEDULER, type JobOutcome, type RenderJob, type ResolveJob } from '../src/queue/jobs';
import type { RedisClient } from '../src/redis';
import { createMarkBatchFailed } from '../src/warm/batches';
import { createAvatarPipeline } from './avatar-pipeline';
import { createRenderProcessor, createResolveProcessor } from './processors';
import { createRefreshAhead } from './refresh-ahead';

export interface WorkerDeps {
  config: Config;
  /** A retry-forever connection (see createQueueRedis); BullMQ duplicates it for blocking reads. */
  connection: RedisClient;
  /** The cache connection (breaker state lives there). */
  cache: RedisClient;
  metrics: Metrics;
  store: AvatarStore;
  logger: Logger;
  clock: Clock;
}

export interface AvatarWorkers {
  /** Finish the jobs in hand, take no new ones. */
  close(): Promise<void>;
}

export async function startWorkers({ config, connection, cache, store, logger, metrics, clock }: WorkerDeps): Promise<AvatarWorkers> {
  const { keyPrefix, queuePrefix: prefix } = config.redis;
  const breaker = createBreaker(cache, keyPrefix, config.greenApi.cooldowns);
  const { instances, timeoutMs, ratePerSec } = config.greenApi;
  const greenApi = createInstancePool(
    instances.map((instance) => ({
      idInstance: instance.idInstance,
      client: instrumentGreenApi(createGreenApiClient({ ...instance, timeoutMs }), logger, metrics),
    })),
    breaker,
    cache,
    logger,
    { ratePerSec, keyPrefix },
  );
  const pipeline = createAvatarPipeline({
    store,
    metrics,
    greenApi,
    downloader: createDownloader(config.source),
    logger,
    clock,
    options: {
      freshness: freshnessPolicy(config.ttl),
      imageTtlSeconds: config.ttl.imageSeconds,
      maxPixels: config.source.maxPixels,
      defaultSize: config.defaultSize,
      defaultFormat: config.defaultFormat,
      renderConcurrency: config.worker.renderConcurrency,
    },
  });
  // Jobs added from here (refresh-ahead) need the same options as the API's, or their ids would stay taken.
  const resolveQueue = new Queue<ResolveJob, JobOutcome>(QUEUE_NAMES.resolve, {
    connection,
    prefix,
    defaultJobOptions: jobDefaults(config.jobs.attempts, config.jobs.backoffMs),
  });
  const deps = {
    store,
    pipeline,
    pauseResolve: (ms: number) => resolveQueue.rateLimit(ms),
    failureBackoffSeconds: config.failureBackoffSeconds,
    markBatchFailed: createMarkBatchFailed(cache, keyPrefix),
    clock,
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
    // Jobs are spaced to what the instances can take together, one per slot of 1/(rate x instances) s plus
    // a margin for network jitter (a fixed window of `rate` jobs would let two bursts meet at its edge);
    // the pool then gives each call a free slot of one instance.
    limiter: { max: 1, duration: Math.ceil((1000 / (ratePerSec * instances.length)) * RATE_SLOT_MARGIN) },
  });
  const renderWorker = new Worker<RenderJob, JobOutcome>(QUEUE_NAMES.render, createRenderProcessor(deps), {
    connection,
    prefix,
    concurrency: config.worker.renderConcurrency,
    lockDuration: config.jobs.lockMs,
    stalledInterval: config.jobs.lockMs,
  });

  const maintenance = await startMaintenance(config, connection, cache, resolveQueue, clock);

  for (const worker of [resolveWorker, renderWorker, maintenance.worker]) {
    worker.on('failed', (job, err) => {
      const final = !job || job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError';
      if (final) metrics.jobsFailed.inc({ queue: worker.name });
      logger[final ? 'error' : 'warn']({ queue: worker.name, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, final ? 'job failed' : 'job attempt failed');
    });
    worker.on('error', (err) => logger.error({ queue: worker.name, err: err.message }, 'worker error'));
  }
  await Promise.all([resolveWorker.waitUntilReady(), renderWorker.waitUntilReady(), maintenance.worker.waitUntilReady()]);

  return {
    async close() {
      await Promise.all([resolveWorker.close(), renderWorker.close(), maintenance.worker.close()]);
      await Promise.all([resolveQueue.close(), maintenance.queue.close()]);
    },
  };
}

/** The keep-fresh job, repeated every REFRESH_CHECK_SECONDS by a BullMQ job scheduler (off with REFRESH_AHEAD_SECONDS=0). */
async function startMaintenance(config: Config, connection: RedisClient, cache: RedisClient, resolveQueue: Queue<ResolveJob, JobOutcome>, clock: Clock) {
  const { keyPrefix, queuePrefix: prefix } = config.redis;
  const queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix, defaultJobOptions: { removeOnComplete: true, removeOnFail: 100 } });
  if (config.refreshAhead.seconds > 0) {
    await queue.upsertJobScheduler(REFRESH_AHEAD_SCHEDULER, { every: config.refreshAhead.checkSeconds * 1000 }, { name: REFRESH_AHEAD_SCHEDULER });
  } else {
    await queue.removeJobScheduler(REFRESH_AHEAD_SCHEDULER);
  }
  const refresh = createRefreshAhead(cache, keyPrefix, resolveQueue, clock, {
    aheadSeconds: config.refreshAhead.seconds,
    recentSeconds: config.ttl.avatarSeconds,
  });
  const worker = new Worker(QUEUE_NAMES.maintenance, refresh, { connection, prefix, concurrency: 1, drainDelay: 1 });
  return { queue, worker };
}
