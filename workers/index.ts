import { Queue, Worker } from 'bullmq';
import type { AvatarStore } from '../src/avatar/store';
import type { Clock } from '../src/clock';
import type { OutageLog } from '../src/outage-log';
import { settleWithin } from '../src/settle';
import type { Config } from '../src/config';
import { freshnessPolicy } from '../src/avatar/freshness';
import { RATE_SLOT_MARGIN, type GreenApiPool } from '../src/greenapi/pool';
import type { SharpSlots } from '../src/images/sharp-slots';
import type { Metrics } from '../src/metrics';
import { createDownloader } from '../src/images/download';
import type { Logger } from '../src/logger';
import { jobDefaults, QUEUE_NAMES, REFRESH_AHEAD_SCHEDULER, RETENTION_SCHEDULER, type JobOutcome, type RenderJob, type ResolveJob } from '../src/queue/jobs';
import type { RedisClient } from '../src/redis';
import { maintenanceQueue, resolveQueue as createResolveQueue } from '../src/queue/queues';
import { createMarkBatchFailed } from '../src/warm/batches';
import { createAvatarPipeline } from './avatar-pipeline';
import { createRenderProcessor, createResolveProcessor } from './processors';
import { createRenderHere } from './render-here';
import type { RenderHere, ResolveHere } from '../src/work/ensure';
import { createResolveHere } from './resolve-here';
import { createInPlaceWork } from './in-place-work';
import { createResolveClaims } from './resolve-claims';
import { createResolveOnce } from './resolve-once';
import { createReportFailure, isLastAttempt } from './job-errors';
import { createRefreshAhead } from './refresh-ahead';
import { createRetention } from './retention';
import type { DurableAvatars } from '../src/storage/durable-avatars';
import { createWebhookProcessor } from './webhook';
import { createChangeEvents, type WebhookJob } from '../src/events/change-events';
import { createRecordChanges } from '../src/records/record-changes';

export interface WorkerDeps {
  config: Config;
  /** A retry-forever connection (see createQueueRedis); BullMQ duplicates it for blocking reads. */
  connection: RedisClient;
  /** The cache connection. */
  cache: RedisClient;
  /** GetAvatar over every instance (the composition root's one pool and breaker). */
  greenApi: GreenApiPool;
  /** The process's sharp slots (RENDER_CONCURRENCY), shared with the API's placeholder draws. */
  slots: SharpSlots;
  metrics: Metrics;
  store: AvatarStore;
  /** The durable store's contents, for the retention job (none with STORAGE_URL=none). */
  durable?: DurableAvatars;
  logger: Logger;
  clock: Clock;
  /** Where Redis trouble of the queue objects is reported (state changes, not every retry). */
  outages: OutageLog;
}

export interface AvatarWorkers {
  /** Renders a request's new variant in this process (see render-here), for an API in the same process. */
  renderHere: RenderHere;
  /** Resolves a request's miss in this process (see resolve-here), for an API in the same process. */
  resolveHere: ResolveHere;
  /** Resolves once the workers are connected and take jobs (never, while Redis is down). */
  ready: Promise<void>;
  /**
   * Takes no new jobs and gives the jobs in hand, and the work in place for requests, `timeoutMs` to finish,
   * then closes anyway: jobs left are taken up by other workers through BullMQ's stalled-job check; a resolve
   * cut in place is started again by the next request for it.
   */
  close(timeoutMs: number): Promise<void>;
}

/** Starts the workers without waiting for Redis: they connect (and reconnect) in the background. */
export function startWorkers({ config, connection, cache, greenApi, slots, store, durable, logger, metrics, clock, outages }: WorkerDeps): AvatarWorkers {
  const { keyPrefix, queuePrefix: prefix } = config.redis;
  const { instances, ratePerSec } = config.greenApi;
  const webhooks = startWebhooks(config, connection);
  const pipeline = createAvatarPipeline({
    store,
    metrics,
    greenApi,
    downloader: createDownloader(config.source),
    logger,
    clock,
    events: createChangeEvents(cache, keyPrefix, config.events.streamMax, webhooks?.queue),
    changes: createRecordChanges(cache, keyPrefix),
    slots,
    options: {
      freshness: freshnessPolicy(config.ttl),
      imageTtlSeconds: config.ttl.imageSeconds,
      maxPixels: config.source.maxPixels,
      defaultSize: config.defaultSize,
      defaultFormat: config.defaultFormat,
    },
  });
  // Keep-fresh adds resolve jobs from here, with the queue's one definition.
  const resolveQueue = createResolveQueue(connection, prefix, config.jobs);
  const claims = createResolveClaims(cache, keyPrefix, config.jobs.lockMs);
  // A 429 pauses resolve jobs (BullMQ's limiter) and in-place resolves (the claims) alike; at most
  // MAX_UPSTREAM_PAUSE_SECONDS, whatever Retry-After says (`Retry-After: 86400` must not stop every lookup for a day).
  const pauseResolve = async (requested: number) => {
    const ms = Math.min(config.greenApi.maxPauseSeconds * 1000, requested);
    await Promise.all([resolveQueue.rateLimit(ms), claims.pause(ms)]);
  };
  const resolveOnce = createResolveOnce({
    store,
    pipeline,
    claims,
    pauseResolve,
    failureBackoffSeconds: config.failureBackoffSeconds,
    markBatchFailed: createMarkBatchFailed(cache, keyPrefix),
    clock,
  });
  const reportFailure = createReportFailure(logger, metrics);
  const inPlace = createInPlaceWork();

  const resolveWorker = new Worker<ResolveJob, JobOutcome>(QUEUE_NAMES.resolve, createResolveProcessor(resolveOnce), {
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
  const renderWorker = new Worker<RenderJob, JobOutcome>(QUEUE_NAMES.render, createRenderProcessor({ store, pipeline, pauseResolve }), {
    connection,
    prefix,
    concurrency: config.worker.concurrency,
    lockDuration: config.jobs.lockMs,
    stalledInterval: config.jobs.lockMs,
  });

  const maintenance = startMaintenance(config, connection, cache, store, resolveQueue, durable, clock, logger);
  const workers = [resolveWorker, renderWorker, maintenance.worker, ...(webhooks ? [webhooks.worker] : [])];
  const queues = [resolveQueue, maintenance.queue, ...(webhooks ? [webhooks.queue] : [])];
  for (const queue of queues) queue.on('error', (err) => outages.failed(`queue ${queue.name}`, err));

  for (const worker of workers) {
    worker.on('failed', (job, err) => {
      // attemptsMade already counts this attempt.
      const final = !job || isLastAttempt(err, job.attemptsMade, job.opts.attempts ?? 1);
      const chatId = (job?.data as { chatId?: string } | undefined)?.chatId;
      reportFailure({ queue: worker.name, jobId: job?.id, chatId, attempt: job?.attemptsMade, final, err });
    });
    worker.on('error', (err) => outages.failed(`worker ${worker.name}`, err));
  }

  return {
    // Four per sharp slot keep the slots busy while other renders read Redis or answer (measured against one per
    // job slot: 1.17x new variants/s); the sources they hold are bounded by MAX_SOURCE_BYTES each.
    renderHere: inPlace.bounded(4 * config.worker.renderConcurrency, createRenderHere({ store, pipeline, logger, metrics })),
    // Four per job slot, as renders have four per sharp slot. With one per job slot, 16 concurrent misses sent
    // about half through jobs (56 Redis commands per cold avatar instead of 35) for no more avatars per second.
    resolveHere: inPlace.bounded(4 * config.worker.concurrency, createResolveHere({ resolveOnce, attempts: config.jobs.attempts, reportFailure })),
    ready: Promise.all(workers.map((w) => w.waitUntilReady())).then(() => undefined),
    async close(timeoutMs) {
      // Without Redis no job can finish (nor fail): waiting for them would only hold the shutdown for nothing.
      // (No wait at all: a start that failed.)
      if (connection.status !== 'ready' || timeoutMs === 0) {
        if (timeoutMs > 0) logger.info('shutdown: Redis is unreachable, so no job can finish; closing the workers now (their locks expire and other workers take them up)');
        await settleWithin(Promise.all(workers.map((w) => w.close(true))), 1000);
      } else if (!(await settleWithin(Promise.all([...workers.map((w) => w.close()), inPlace.idle()]), timeoutMs))) {
        logger.warn({ timeoutMs }, 'shutdown: jobs still running after SHUTDOWN_TIMEOUT_MS; closing anyway (other workers take them up)');
        await settleWithin(Promise.all(workers.map((w) => w.close(true))), 1000);
      }
      await settleWithin(Promise.all(queues.map((q) => q.close())), 1000);
    },
  };
}

/** Attempts of a webhook delivery: with exponential backoff from JOB_BACKOFF_MS, hours at the default. */
const WEBHOOK_ATTEMPTS = 12;

/** Change events for WEBHOOK_URL: their own queue and worker, so a receiver that is down slows nothing else. */
function startWebhooks(config: Config, connection: RedisClient) {
  const webhook = config.events.webhook;
  if (!webhook) return undefined;
  const prefix = config.redis.queuePrefix;
  const queue = new Queue<WebhookJob, JobOutcome>(QUEUE_NAMES.webhook, {
    connection,
    prefix,
    defaultJobOptions: { ...jobDefaults(config.jobs), attempts: WEBHOOK_ATTEMPTS },
  });
  const worker = new Worker<WebhookJob, JobOutcome>(QUEUE_NAMES.webhook, createWebhookProcessor(webhook), { connection, prefix, concurrency: 4, drainDelay: 1 });
  return { queue, worker };
}

/** How often the retention job runs, and how many records one run looks at. */
const RETENTION_EVERY_MS = 3_600_000;
const RETENTION_PER_RUN = 1000;

/**
 * The maintenance queue's repeated jobs, each from a BullMQ job scheduler (so one process runs each): keep-fresh
 * every REFRESH_CHECK_SECONDS (off with REFRESH_AHEAD_SECONDS=0), and the durable store's retention hourly (off
 * with STORAGE_RETENTION_DAYS=0 or STORAGE_URL=none).
 */
function startMaintenance(
  config: Config,
  connection: RedisClient,
  cache: RedisClient,
  store: AvatarStore,
  resolveQueue: Queue<ResolveJob, JobOutcome>,
  durable: DurableAvatars | undefined,
  clock: Clock,
  logger: Logger,
) {
  const { keyPrefix, queuePrefix: prefix } = config.redis;
  const queue = maintenanceQueue(connection, prefix, config.jobs);
  // The connection queues the commands until Redis answers: this never blocks the start.
  const schedule = (name: string, everyMs: number | undefined) =>
    (everyMs ? queue.upsertJobScheduler(name, { every: everyMs }, { name }) : queue.removeJobScheduler(name)).catch((err: Error) =>
      logger.warn({ err: err.message, job: name }, 'could not set up a maintenance schedule'),
    );
  void schedule(REFRESH_AHEAD_SCHEDULER, config.refreshAhead.seconds > 0 ? config.refreshAhead.checkSeconds * 1000 : undefined);
  const retentionDays = durable ? config.storage.retentionDays : 0;
  void schedule(RETENTION_SCHEDULER, retentionDays > 0 ? RETENTION_EVERY_MS : undefined);
  const refresh = createRefreshAhead(cache, keyPrefix, store, resolveQueue, clock, {
    aheadSeconds: config.refreshAhead.seconds,
    recentSeconds: config.ttl.avatarSeconds,
  });
  const retention = durable && retentionDays > 0 ? createRetention(durable, cache, keyPrefix, clock, { days: retentionDays, perRun: RETENTION_PER_RUN }) : undefined;
  const worker = new Worker(
    QUEUE_NAMES.maintenance,
    async (job): Promise<JobOutcome> => (job.name === RETENTION_SCHEDULER ? (retention?.() ?? { status: 'retention off' }) : refresh()),
    { connection, prefix, concurrency: 1, drainDelay: 1 },
  );
  return { queue, worker };
}
