import type { Redis } from 'ioredis';
import type { AvatarQueues } from './queue/queues';

export type ReadinessReport = Record<string, 'ok' | string>;

export interface Readiness {
  /** Each part's state; the service is ready when every part says ok. */
  check(): Promise<{ ready: boolean; parts: ReadinessReport }>;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function probe(run: () => Promise<unknown>, timeoutMs: number): Promise<string> {
  try {
    await within(run(), timeoutMs);
    return 'ok';
  } catch (err) {
    return `down: ${(err as Error).message}`;
  }
}

export function createReadiness(cache: Redis, queues: AvatarQueues, timeoutMs = 1000): Readiness {
  return {
    async check() {
      const [redis, queue] = await Promise.all([
        probe(() => cache.ping(), timeoutMs),
        // BullMQ 6 has no queue.client: a bounded real command proves the queue's Redis answers.
        probe(() => queues.resolve.getJobCounts('waiting'), timeoutMs),
      ]);
      const parts = { redis, queue };
      return { ready: Object.values(parts).every((p) => p === 'ok'), parts };
    },
  };
}
