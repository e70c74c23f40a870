import { createHmac } from 'node:crypto';
import type { Job } from 'bullmq';
import type { WebhookJob } from '../src/events/change-events';
import type { JobOutcome } from '../src/queue/jobs';

export interface WebhookTarget {
  url: string;
  secret: string;
  timeoutMs: number;
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`: what receivers compare (in constant time) with their own. */
export const webhookSignature = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * Delivers one change event: POST, JSON, signed. Anything but a 2xx is a failure the queue retries with
 * backoff (at-least-once: the event's id lets the receiver drop duplicates).
 */
export function createWebhookProcessor({ url, secret, timeoutMs }: WebhookTarget) {
  return async (job: Job<WebhookJob, JobOutcome>): Promise<JobOutcome> => {
    const body = JSON.stringify(job.data.event);
    let status: number;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'avatar-cdn-webhook',
          'X-Avatar-Event-Id': job.data.event.id,
          'X-Avatar-Signature': webhookSignature(secret, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      await res.body?.cancel();
    } catch (err) {
      throw new Error(`webhook not delivered (${(err as { name?: string }).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : 'connection failed'})`);
    }
    if (status < 200 || status >= 300) throw new Error(`webhook answered HTTP ${status}`);
    return { status: `delivered ${status}` };
  };
}
