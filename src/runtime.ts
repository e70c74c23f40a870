import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { startWorkers, type AvatarWorkers } from '../workers';
import { createApp } from './app';
import { createPlaceholders } from './avatar/placeholder';
import { createAvatarService } from './avatar/service';
import { createAvatarStore } from './avatar/store';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { createBreaker } from './greenapi/breaker';
import type { Logger } from './logger';
import { createMetrics } from './metrics';
import { createJobWaiter } from './queue/job-waiter';
import { createQueueEvents, createQueues, type AvatarQueueEvents, type AvatarQueues } from './queue/queues';
import { createReadiness } from './readiness';
import { createCacheRedis, createQueueRedis, type RedisClient } from './redis';
import { livenessRouter } from './routes/health';
import { createFastPath } from './http/fast-path';
import { createClientLimiter } from './security/client-limiter';
import { createWarmBatches } from './warm/batches';
import { createRecentRequests, type RecentRequests } from './warm/recent';

export type Role = 'all' | 'api' | 'worker';

export interface Runtime {
  /** Base URL of the HTTP server: the API, or a worker's /healthz and /metrics. */
  url: string;
  /** Stop accepting, finish in-flight requests and jobs, close Redis. */
  close(): Promise<void>;
}

async function listen(handler: RequestListener, port: number, host: string): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

/**
 * The composition root: builds every part from the config, for one role. Nothing else creates Redis
 * connections, so tests run the exact production wiring with their own config.
 */
export async function startRuntime(config: Config, role: Role, logger: Logger, clock: Clock = systemClock): Promise<Runtime> {
  const connections: RedisClient[] = [];
  const track = <T extends RedisClient>(redis: T): T => {
    redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    connections.push(redis);
    return redis;
  };
  const prefix = config.redis.keyPrefix;
  const cache = track(createCacheRedis(config.redis.cache, config.redis.commandTimeoutMs));
  const store = createAvatarStore(cache, prefix, { imageSeconds: config.ttl.imageSeconds });
  const breaker = createBreaker(cache, prefix, config.greenApi.cooldowns);

  let queues: AvatarQueues | undefined;
  let events: AvatarQueueEvents | undefined;
  if (role !== 'worker') {
    const { queue, queuePrefix } = config.redis;
    queues = createQueues(track(createCacheRedis(queue, config.redis.commandTimeoutMs)), queuePrefix, config.jobs);
    events = await createQueueEvents(track(createQueueRedis(queue)), queuePrefix);
  }
  const upstream = { breaker, idInstances: config.greenApi.instances.map((i) => i.idInstance) };
  const metrics = createMetrics(queues ? [queues.resolve, queues.render] : [], upstream);

  let workers: AvatarWorkers | undefined;
  if (role !== 'api') {
    workers = await startWorkers({ config, connection: track(createQueueRedis(config.redis.queue)), cache, store, logger, metrics, clock });
  }

  let handler: RequestListener;
  let recent: RecentRequests | undefined;
  if (queues && events) {
    if (config.refreshAhead.seconds > 0) {
      recent = createRecentRequests(cache, prefix, Math.min(5000, (config.refreshAhead.checkSeconds * 1000) / 2), clock);
    }
    const avatars = createAvatarService({
      store,
      waiter: createJobWaiter(queues, events, { maxWaitMs: config.missWaitMs, maxBacklog: config.jobs.maxBacklog }),
      placeholders: createPlaceholders(),
      limits: {
        miss: createClientLimiter(cache, prefix, 'miss', config.security.missRatePerMin),
        render: createClientLimiter(cache, prefix, 'render', config.security.renderRatePerMin),
      },
      recent,
      metrics,
      logger,
      clock,
      options: {
        missWaitMs: config.missWaitMs,
        browserMaxAgeSeconds: config.ttl.browserMaxAgeSeconds,
        staleMaxAgeSeconds: config.ttl.staleMaxAgeSeconds,
        memoryCache: config.memoryCache,
      },
    });
    const app = createApp({
      avatars,
      batches: createWarmBatches(cache, prefix, queues, config.jobs.maxWarmBacklog),
      queues,
      readiness: createReadiness(cache, queues, upstream),
      metrics,
      logger,
      defaultSize: config.defaultSize,
      security: config.security,
      demoPage: config.demoPage,
    });
    handler = createFastPath(avatars, app, metrics, { defaultSize: config.defaultSize, signingKey: config.security.signingKey });
  } else {
    // A worker answers only liveness and metrics.
    handler = express().disable('x-powered-by').use(livenessRouter(metrics));
  }
  const server = await listen(handler, role === 'worker' ? config.workerPort : config.port, config.host);

  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    url: `http://${host}:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await recent?.close();
      await workers?.close();
      await events?.close();
      await queues?.close();
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
