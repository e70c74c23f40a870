import type { RedisClient } from './redis';
import type { InstanceBreaker } from './greenapi/breaker';
import type { AvatarQueues } from './queue/queues';

import type { QuotaReport } from './greenapi/errors';

export type ReadinessReport = Record<string, string | Record<string, string> | Record<string, QuotaReport>>;

export interface Readiness {
  /**
   * Each part's state. Ready means Redis and the queue answer; the upstream's state is reported but does
   * not make the service unready, because cached avatars keep being served while Green API refuses calls.
   */
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

export function createReadiness(
  cache: RedisClient,
  queues: AvatarQueues,
  upstream: { breaker: InstanceBreaker; idInstances: string[] },
  timeoutMs = 1000,
): Readiness {
  return {
    async check() {
      const [redis, queue, ...states] = await Promise.all([
        probe(() => cache.ping(), timeoutMs),
        // BullMQ 6 has no queue.client: a bounded real command proves the queue's Redis answers.
        probe(() => queues.resolve.getJobCounts('waiting'), timeoutMs),
        ...upstream.idInstances.map((id) => within(upstream.breaker.state(id), timeoutMs).catch(() => 'unknown')),
      ]);
      // The upstream is ok while any instance takes calls; `instances` says which do not, `quota` what a 466 said.
      const instances = Object.fromEntries(upstream.idInstances.map((id, i) => [id, states[i]!]));
      const overall = states.includes('ok') ? 'ok' : (states[0] ?? 'unknown');
      const parts: ReadinessReport = { redis, queue, upstream: overall, instances };
      const exhausted = upstream.idInstances.filter((_, i) => states[i] === 'quota');
      if (exhausted.length > 0) {
        const reports = await Promise.all(exhausted.map((id) => within(upstream.breaker.quota(id), timeoutMs).catch(() => undefined)));
        parts.quota = Object.fromEntries(exhausted.map((id, i) => [id, reports[i] ?? {}]));
      }
      return { ready: redis === 'ok' && queue === 'ok', parts };
    },
  };
}
