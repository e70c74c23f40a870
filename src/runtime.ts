import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { startWorkers, type AvatarWorkers } from '../workers';
import { createApp } from './app';
import { createPlaceholders } from './avatar/placeholder';
import { createAvatarInfo } from './avatar/info';
import { createAvatarService } from './avatar/service';
import { createAvatarStore, type AvatarStore } from './avatar/store';
import { createTieredStore } from './avatar/tiered-store';
import { freshnessPolicy, recordKeepSeconds } from './avatar/freshness';
import { openBlobStore } from './storage/open-storage';
import { observeStore, type StorageHealth } from './storage/observed-store';
import { openDurableAvatars } from './storage/durable-avatars';
import { createWriteRetries, type WriteRetries } from './storage/write-retries';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { createBreaker } from './greenapi/breaker';
import { createGreenApi } from './greenapi/upstream';
import type { Logger } from './logger';
import { createMetrics } from './metrics';
import { createOutageLog, type OutageLog } from './outage-log';
import { createEnsure } from './work/ensure';
import { createQueuedWork } from './work/queued';
import { createQueueEvents, createQueues, type AvatarQueueEvents, type AvatarQueues } from './queue/queues';
import { createReadiness, type Readiness, type RedisProbe } from './readiness';
import { connectionTrouble, createCacheRedis, createQueueRedis, watchConnection, type RedisClient } from './redis';
import { healthRouter } from './routes/health';
import { createCors } from './http/cors';
import { AVATAR_PATH, createAvatarHandler } from './http/avatar-handler';
import { createClientIp } from './security/client-ip';
import { createResponseMemory } from './avatar/memory-cache';
import { createSharpSlots } from './images/sharp-slots';
import { listenToRecordChanges } from './records/record-changes';
import { createOpaqueIds, isOpaqueId } from './ids/opaque-id';
import { createPublicIds } from './ids/public-id';
import { createClientLimiter } from './security/client-limiter';
import { settleWithin } from './settle';
import { createWarmBatches } from './warm/batches';
import { createWarmLookups } from './warm/warm-lookups';
import { createNotificationHandler } from './greenapi/notifications';
import { createRecentRequests, type RecentRequests } from './warm/recent';

export type Role = 'all' | 'api' | 'worker';

export interface Runtime {
  /** Base URL of the HTTP server: the API, or a worker's /healthz, /readyz and /metrics. */
  url: string;
  /** Base URL of /metrics when METRICS_PORT gives it a port of its own. */
  metricsUrl?: string;
  /** Resolves once Redis answered and the workers take jobs; the port is open before that. */
  ready: Promise<void>;
  /**
   * Stops accepting, lets in-flight requests and jobs finish for at most SHUTDOWN_TIMEOUT_MS, then closes
   * everything anyway, whether Redis answers or not.
   */
  close(): Promise<void>;
}

/** The port is taken: one clear line for the operator, not a stack. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(readonly port: number) {
    super(`port ${port} is already in use`);
  }
}

async function listen(handler: RequestListener, port: number, host: string): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError(port) : err));
    server.listen(port, host, resolve);
  });
  return server;
}

const urlOf = (server: Server, host: string) => {
  const { port } = server.address() as AddressInfo;
  return `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
};

/** Reports errors of BullMQ objects (they would print raw stacks without a listener). */
function watchQueueObjects(objects: { name: string; on(event: 'error', listener: (err: Error) => void): unknown }[], kind: string, outages: OutageLog): void {
  for (const object of objects) object.on('error', (err) => outages.failed(`${kind} ${object.name}`, err));
}

/**
 * How many interactive jobs may wait per queue. Lookups are also bounded by what the instances can call in
 * LOOKUP_BACKLOG_SECONDS: past that, a new cold contact would wait longer than any page does.
 */
function interactiveBacklogs({ jobs, greenApi }: Config): { resolve: number; render: number } {
  const bounds = [jobs.maxBacklog, jobs.lookupBacklogSeconds * greenApi.ratePerSec * greenApi.instances.length].filter((n) => n > 0);
  return { resolve: bounds.length > 0 ? Math.min(...bounds) : 0, render: jobs.maxBacklog };
}

/** Closes an HTTP server: no new connections, in-flight requests get until the deadline, then are cut. */
async function closeServer(server: Server | undefined, timeoutMs: number): Promise<void> {
  if (!server) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  if (!(await settleWithin(closed, timeoutMs))) server.closeAllConnections();
  await closed;
}

/**
 * The composition root: builds every part from the config, for one role. Nothing else creates Redis
 * connections, so tests run the exact production wiring with their own config. The port opens before
 * anything waits for Redis: without Redis the service answers health checks and error placeholders, and
 * everything starts working when Redis appears.
 */
export async function startRuntime(config: Config, role: Role, baseLogger: Logger, clock: Clock = systemClock): Promise<Runtime> {
  const opaqueIds = config.security.idKeys ? createOpaqueIds(config.security.idKeys) : undefined;
  const ids = createPublicIds({ opaqueIds, opaqueOnly: config.security.publicIds === 'opaque' });
  // With ID_KEYS, every log line names a contact by its opaque id: a number never reaches the logs.
  const logger = opaqueIds
    ? baseLogger.child({}, { serializers: { chatId: (chatId: unknown) => (typeof chatId === 'string' && !isOpaqueId(chatId) ? opaqueIds.encode(chatId) : chatId) } })
    : baseLogger;
  // Checked before anything connects: a STORAGE_URL that cannot be used stops the start with one line.
  const blobs = await openBlobStore(config.storage, config.redis.keyPrefix);
  const outages = createOutageLog(logger);
  // Every Redis connection of this process, by the part it serves (logs, /metrics, shutdown).
  const connections = new Map<string, RedisClient>();
  const track = <T extends RedisClient>(redis: T, part: string): T => {
    watchConnection(redis, part, outages);
    connections.set(part, redis);
    return redis;
  };
  const prefix = config.redis.keyPrefix;
  const cache = track(createCacheRedis(config.redis.cache, config.redis.commandTimeoutMs), 'redis');
  const breaker = createBreaker(cache, prefix, config.greenApi.cooldowns);
  const upstream = { breaker, idInstances: config.greenApi.instances.map((i) => i.idInstance) };
  const redisProbe: RedisProbe = { connection: cache, run: () => cache.ping() };

  let queues: AvatarQueues | undefined;
  let events: AvatarQueueEvents | undefined;
  let queueProbe: RedisProbe;
  if (role !== 'worker') {
    const { queue, queuePrefix } = config.redis;
    const producer = track(createCacheRedis(queue, config.redis.commandTimeoutMs, { autoPipelining: false }), 'redis (queue)');
    queues = createQueues(producer, queuePrefix, config.jobs);
    events = createQueueEvents(track(createQueueRedis(queue), 'redis (queue events)'), queuePrefix);
    watchQueueObjects([queues.resolve, queues.render, queues.maintenance], 'queue', outages);
    watchQueueObjects([events.resolve, events.render], 'queue events', outages);
    const resolveQueue = queues.resolve;
    // BullMQ 6 has no queue.client: a bounded real command proves the queue's Redis answers.
    queueProbe = { connection: producer, run: () => resolveQueue.getJobCounts('waiting') };
  }
  const metrics = createMetrics(queues ? [queues.resolve, queues.render, queues.maintenance] : [], upstream, () =>
    Object.fromEntries([...connections].map(([part, redis]) => [part, connectionTrouble(redis) === undefined])),
  );
  const storage = blobs ? await openTiers(blobs) : undefined;
  const redisStore = createAvatarStore(cache, prefix, { imageSeconds: config.ttl.imageSeconds }, clock);
  const freshness = freshnessPolicy(config.ttl);
  const store: AvatarStore = storage
    ? createTieredStore({
        redis: redisStore,
        durable: storage.durable,
        retries: storage.retries,
        keepSeconds: (meta) => recordKeepSeconds(freshness, config.ttl.imageSeconds, meta),
        defaultVariant: { size: config.defaultSize, format: config.defaultFormat },
        logger,
      })
    : redisStore;

  async function openTiers(opened: NonNullable<typeof blobs>): Promise<{ durable: Awaited<ReturnType<typeof openDurableAvatars>>; health: StorageHealth; retries: WriteRetries }> {
    const observed = observeStore(opened, metrics, logger);
    return { durable: await openDurableAvatars(observed), health: observed, retries: createWriteRetries(logger) };
  }
  // Renders and placeholder draws share one bound on sharp work in this process.
  const slots = createSharpSlots(config.worker.renderConcurrency);
  const greenApi = createGreenApi(config.greenApi, { breaker, cache, logger, metrics, keyPrefix: prefix });
  const readinessFor = (queue: RedisProbe) => createReadiness({ redis: redisProbe, queue, storage: storage?.health }, upstream, config.redis.commandTimeoutMs);
  const metricsHere = config.metricsPort === undefined;

  const workerConnection = role === 'api' ? undefined : track(createQueueRedis(config.redis.queue), 'redis (workers)');
  // Workers start before the API is built: an API in the same process resolves misses and renders new variants
  // on their pipeline.
  const workers: AvatarWorkers | undefined = workerConnection
    ? startWorkers({ config, connection: workerConnection, cache, greenApi, slots, store, durable: storage?.durable, logger, metrics, clock, outages })
    : undefined;

  let handler: RequestListener;
  let readiness: Readiness;
  let recent: RecentRequests | undefined;
  if (queues && events) {
    const cors = createCors(config.security.corsOrigins);
    if (config.refreshAhead.seconds > 0) {
      recent = createRecentRequests(
        cache,
        prefix,
        // Written again at most every tenth of the keep-fresh window: "recently" stays true, writes stay few.
        { flushMs: Math.min(5000, (config.refreshAhead.checkSeconds * 1000) / 2), rewriteMs: (config.refreshAhead.seconds * 1000) / 10 },
        clock,
      );
    }
    const placeholders = createPlaceholders(slots);
    // Memory serves only while news of changes reaches this process (a subscriber connection of its own).
    const memory = createResponseMemory(config.memoryCache, clock);
    listenToRecordChanges(track(createQueueRedis(config.redis.cache), 'redis (record changes)'), prefix, {
      changed: (chatId, at) => memory.forget(chatId, at),
      live: (live) => memory.setLive(live),
    });
    const avatars = createAvatarService({
      store,
      memory,
      ensure: createEnsure(createQueuedWork(queues, events, { maxWaitMs: config.missWaitMs, maxBacklog: interactiveBacklogs(config) }), {
        maxWaitMs: config.missWaitMs,
        here: workers && { resolve: workers.resolveHere, render: workers.renderHere },
      }),
      placeholders,
      limits: {
        miss: createClientLimiter(cache, prefix, 'miss', config.security.missRatePerMin, clock),
        render: createClientLimiter(cache, prefix, 'render', config.security.renderRatePerMin, clock),
      },
      recent,
      metrics,
      logger,
      clock,
      options: {
        missWaitMs: config.missWaitMs,
        browserMaxAgeSeconds: config.ttl.browserMaxAgeSeconds,
        staleMaxAgeSeconds: config.ttl.staleMaxAgeSeconds,
        staticHeaders: cors.always,
      },
    });
    const info = createAvatarInfo({
      avatars,
      store,
      placeholders,
      clock,
      options: {
        defaultFormat: config.defaultFormat,
        browserMaxAgeSeconds: config.ttl.browserMaxAgeSeconds,
        staleMaxAgeSeconds: config.ttl.staleMaxAgeSeconds,
        signingKey: config.security.signingKeys?.[0],
        ids,
        staticHeaders: cors.always,
      },
    });
    const lookups = createWarmLookups(store, queues);
    const app = createApp({
      store,
      batches: createWarmBatches(cache, prefix, lookups, config.jobs.maxWarmBacklog, clock),
      queues,
      readiness: (readiness = readinessFor(queueProbe!)),
      metrics,
      logger,
      security: config.security,
      demoPage: config.demoPage,
      metricsHere,
      ids,
      refreshLimit: createClientLimiter(cache, prefix, 'refresh', config.jobs.refreshRatePerMin, clock),
      contacts: { idInstances: upstream.idInstances, getContacts: (idInstance) => greenApi.getContacts(idInstance) },
      notifications: config.greenApi.webhookToken
        ? {
            token: config.greenApi.webhookToken,
            handle: createNotificationHandler({ lookups, breaker, idInstances: upstream.idInstances, maxWarmBacklog: config.jobs.maxWarmBacklog, logger, metrics, now: clock }),
          }
        : undefined,
    });
    const avatarHandler = createAvatarHandler({
      avatars,
      info,
      metrics,
      logger,
      options: {
        defaultSize: config.defaultSize,
        defaultFormat: config.defaultFormat,
        signingKeys: config.security.signingKeys,
        cors,
        ids,
        clock,
        clientIp: createClientIp(config.security.trustProxy),
      },
    });
    // Every /avatar/* request is the avatar handler's; Express has the rest.
    handler = (req, res) => ((req.url ?? '').startsWith(AVATAR_PATH) ? avatarHandler(req, res) : app(req, res));
  } else {
    // A worker answers health, readiness (its Redis) and metrics.
    const connection = workerConnection!;
    handler = express()
      .disable('x-powered-by')
      .use(healthRouter((readiness = readinessFor({ connection, run: () => connection.ping() })), metrics, { metricsHere, showDetails: () => true }));
  }

  let server: Server | undefined;
  let metricsServer: Server | undefined;
  try {
    server = await listen(handler, role === 'worker' ? config.workerPort : config.port, config.host);
    // The internal port: /metrics, and /readyz with its details (which part, which instance, why).
    if (!metricsHere) {
      const internal = express().disable('x-powered-by').use(healthRouter(readiness, metrics, { metricsHere: true, showDetails: () => true }));
      metricsServer = await listen(internal, config.metricsPort!, config.host);
    }
  } catch (err) {
    server?.close();
    workers?.close(0).catch(() => undefined);
    storage?.retries.close();
    for (const connection of connections.values()) connection.disconnect();
    recent?.close().catch(() => undefined);
    throw err;
  }

  const ready = Promise.all([workers?.ready, events?.ready]).then(() => undefined);

  return {
    url: urlOf(server, config.host),
    metricsUrl: metricsServer ? urlOf(metricsServer, config.host) : undefined,
    ready,
    async close() {
      const timeoutMs = config.shutdownTimeoutMs;
      // Requests and jobs finish side by side, each within the same deadline.
      await Promise.all([closeServer(server, timeoutMs), closeServer(metricsServer, timeoutMs), workers?.close(timeoutMs)]);
      // What is left only talks to Redis: a moment, then the connections are cut whether Redis answers or not.
      await settleWithin(Promise.all([recent?.close(), events?.close(), queues?.close()]), 1000);
      await settleWithin(Promise.all([...connections.values()].map((c) => c.quit())), 1000);
      for (const connection of connections.values()) connection.disconnect();
      storage?.retries.close();
    },
  };
}
