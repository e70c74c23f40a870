import { Redis, type RedisOptions } from 'ioredis';

/**
 * Two kinds of connection, with opposite needs:
 *  - cache: used on the request path (cache reads, enqueueing jobs). A command fails fast (no offline
 *    queue, bounded time) so a request never hangs while Redis is down; it reconnects by itself.
 *  - queue: BullMQ workers and queue events block on Redis and must retry forever
 *    (`maxRetriesPerRequest: null`, as BullMQ requires).
 */
export function createCacheRedis(url: string, commandTimeoutMs: number, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs, 2000),
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options,
  });
}

export function createQueueRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options,
  });
}
