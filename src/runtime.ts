import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { startWorkers, type AvatarWorkers } from '../workers';
import { createApp } from './app';
import { createPlaceholders } from './avatar/placeholder';
import { createAvatarService } from './avatar/service';
import { createAvatarStore } from './avatar/store';
import type { Config } from './config';
import type { Logger } from './logger';
import { createJobWaiter } from './queue/job-waiter';
import { createQueueEvents, createQueues, type AvatarQueueEvents, type AvatarQueues } from './queue/queues';
import { createReadiness } from './readiness';
import { createCacheRedis, createQueueRedis } from './redis';
import { createMissLimiter } from './security/miss-limiter';
import { createBreaker } from './greenapi/breaker';
import { createWarmBatches } from './warm/batches';

export type Role = 'all' | 'api' | 'worker';

export interface Runtime {
  /** Base URL of the HTTP server (api roles only). */
  url?: string;
  /** Stop accepting, finish in-flight requests and jobs, close Redis. */
  close(): Promise<void>;
}

/**
 * The composition root: builds every part from the config, for one role. Nothing else creates Redis
 * connections, so tests run the exact production wiring with their own config.
 */
export async function startRuntime(config: Config, role: Role, logger: Logger): Promise<Runtime> {
  const connections: Redis[] = [];
  const track = <T extends Redis>(redis: T): T => {
    redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    connections.push(redis);
    return redis;
  };
  const cache = track(createCacheRedis(config.redis.url, config.redis.commandTimeoutMs));
  const store = createAvatarStore(cache, config.redis.keyPrefix, { imageSeconds: config.ttl.imageSeconds });

  let workers: AvatarWorkers | undefined;
  if (role !== 'api') {
    const queueConnection = track(createQueueRedis(config.redis.queueUrl));
    workers = await startWorkers({ config, connection: queueConnection, cache, store, logger });
  }

  let server: Server | undefined;
  let queues: AvatarQueues | undefined;
  let events: AvatarQueueEvents | undefined;
  if (role !== 'worker') {
    const producer = track(createCacheRedis(config.redis.queueUrl, config.redis.commandTimeoutMs));
    queues = createQueues(producer, config.redis.keyPrefix, config.jobs);
    events = await createQueueEvents(track(createQueueRedis(config.redis.queueUrl)), config.redis.keyPrefix);
    const avatars = createAvatarService({
      store,
      waiter: createJobWaiter(queues, events, { maxWaitMs: config.missWaitMs, maxBacklog: config.jobs.maxBacklog }),
      placeholders: createPlaceholders(),
      missLimiter: createMissLimiter(cache, config.redis.keyPrefix, config.security.missRatePerMin),
      logger,
      options: {
        missWaitMs: config.missWaitMs,
        browserMaxAgeSeconds: config.ttl.browserMaxAgeSeconds,
        staleMaxAgeSeconds: config.ttl.staleMaxAgeSeconds,
        memoryCache: config.memoryCache,
      },
    });
    const app = createApp({
      avatars,
      batches: createWarmBatches(cache, config.redis.keyPrefix, queues),
      queues,
      readiness: createReadiness(cache, queues, {
        breaker: createBreaker(cache, config.redis.keyPrefix, config.greenApi.cooldowns),
        idInstance: config.greenApi.idInstance,
      }),
      logger,
      defaultSize: config.defaultSize,
      security: config.security,
    });
    server = createServer(app);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.port, config.host, resolve);
    });
  }

  const address = server?.address() as AddressInfo | undefined;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    url: address ? `http://${host}:${address.port}` : undefined,
    async close() {
      if (server) {
        const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
      }
      await workers?.close();
      await events?.close();
      await queues?.close();
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
