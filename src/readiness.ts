import type { QuotaReport } from './greenapi/errors';
import type { UpstreamInstances } from './metrics';
import { reasonOf } from './outage-log';
import { connectionTrouble, type RedisClient } from './redis';
import type { StorageHealth } from './storage/observed-store';

/** `/readyz`'s status, ready or not. */
export const READINESS_STATUSES = { ready: 'ok', unready: 'unavailable' } as const;
/** An instance whose state could not be read in time (Redis slow or down). */
export const UNKNOWN_STATE = 'unknown';

export type ReadinessReport = Record<string, string | Record<string, string> | Record<string, QuotaReport>>;

export interface Readiness {
  /**
   * Each part's state, in words ("ok", "unreachable (connection refused)"). Ready means Redis and the queue
   * answer; the upstream's state is reported but does not make the service unready, because cached avatars
   * keep being served while Green API refuses calls.
   */
  check(): Promise<{ ready: boolean; parts: ReadinessReport }>;
}

/** A Redis connection to check, and a bounded real command that proves it answers. */
export interface RedisProbe {
  connection: RedisClient;
  run(): Promise<unknown>;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer in ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function probe({ connection, run }: RedisProbe, timeoutMs: number): Promise<string> {
  const trouble = connectionTrouble(connection);
  if (trouble) return trouble;
  try {
    await within(run(), timeoutMs);
    return 'ok';
  } catch (err) {
    return `unreachable (${reasonOf(err as Error)})`;
  }
}

/**
 * `storage` (the durable store) is reported but does not make the service unready: while it fails, Redis serves
 * and keeps what it would hold.
 */
export function createReadiness(parts: { redis: RedisProbe; queue: RedisProbe; storage?: StorageHealth }, upstream: UpstreamInstances, timeoutMs = 1000): Readiness {
  return {
    async check() {
      const [redis, queue, ...states] = await Promise.all([
        probe(parts.redis, timeoutMs),
        probe(parts.queue, timeoutMs),
        ...upstream.idInstances.map((id) => within(upstream.breaker.state(id), timeoutMs).catch(() => UNKNOWN_STATE)),
      ]);
      // The upstream is ok while any instance takes calls; `instances` says which do not, `quota` what a 466 said.
      const instances = Object.fromEntries(upstream.idInstances.map((id, i) => [id, states[i]!]));
      const overall = states.includes('ok') ? 'ok' : (states[0] ?? UNKNOWN_STATE);
      const report: ReadinessReport = { redis, queue, storage: parts.storage?.state() ?? 'none', upstream: overall, instances };
      const exhausted = upstream.idInstances.filter((_, i) => states[i] === 'quota');
      if (exhausted.length > 0) {
        const reports = await Promise.all(exhausted.map((id) => within(upstream.breaker.quota(id), timeoutMs).catch(() => undefined)));
        report.quota = Object.fromEntries(exhausted.map((id, i) => [id, reports[i] ?? {}]));
      }
      return { ready: redis === 'ok' && queue === 'ok', parts: report };
    },
  };
}
