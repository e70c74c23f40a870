import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../redis';
import { createKeys } from '../avatar/keys';

/** What a resolve found different from the stored answer: a new picture, a removed one, a first one. */
export interface ChangeEvent {
  id: string;
  type: 'avatar.changed';
  chatId: string;
  status: string;
  /** The ETag of the default image now, and before. */
  etag: string;
  previousEtag: string;
  /** ISO time of the change. */
  at: string;
}

export interface WebhookJob {
  event: ChangeEvent;
}

export interface ChangeEvents {
  record(change: Omit<ChangeEvent, 'id' | 'type' | 'at'>, at: number): Promise<void>;
}

/**
 * Appends each change to a capped Redis Stream (`<prefix>:events`, read with XREAD/XRANGE), and hands it to
 * the webhook queue when a webhook is configured: delivered by its own BullMQ worker with retries, never on
 * a request path.
 */
export function createChangeEvents(redis: RedisClient, keyPrefix: string, maxLength: number, webhooks?: Queue<WebhookJob>): ChangeEvents {
  const stream = createKeys(keyPrefix).events;
  return {
    async record(change, at) {
      const event: ChangeEvent = { id: randomUUID(), type: 'avatar.changed', ...change, at: new Date(at).toISOString() };
      await redis.xadd(stream, 'MAXLEN', '~', String(maxLength), '*', ...Object.entries(event).flat());
      await webhooks?.add('deliver', { event }, { jobId: `webhook-${event.id}` });
    },
  };
}
