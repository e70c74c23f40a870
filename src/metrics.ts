import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import { INSTANCE_STATES, type InstanceBreaker } from './greenapi/breaker';

/**
 * Every Prometheus metric of the service, in one registry per process (so tests can run several stacks).
 * Labels never carry secrets or unbounded values (no chatIds, no URLs).
 */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'route' | 'status' | 'cache'>;
  avatarLookups: Counter<'result'>;
  greenApiCalls: Counter<'outcome'>;
  greenApiDuration: Histogram<'outcome'>;
  downloads: Counter<'outcome'>;
  downloadBytes: Counter;
  renderDuration: Histogram<'format'>;
  jobsFailed: Counter<'queue'>;
  greenApiNotifications: Counter<'type' | 'outcome'>;
  placeholders: Counter<'status'>;
  storageOperations: Counter<'op' | 'outcome'>;
}

const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

/** The Green API instances whose breaker state (in Redis) is reported at each scrape. */
export interface UpstreamInstances {
  idInstances: string[];
  breaker: InstanceBreaker;
}

/** Per instance: its state as a 0/1 gauge per state, and what its last 466 said of the plan's limits. */
function instanceGauges({ idInstances, breaker }: UpstreamInstances, registers: Registry[]): void {
  new Gauge({
    name: 'avatar_greenapi_instance_state',
    help: 'Green API instance state: 1 for the state it is in (ok, unauthorized, quota), 0 for the others',
    labelNames: ['instance', 'state'],
    registers,
    async collect() {
      for (const instance of idInstances) {
        const state = await breaker.state(instance).catch(() => undefined);
        if (state) for (const s of INSTANCE_STATES) this.set({ instance, state: s }, s === state ? 1 : 0);
      }
    },
  });
  // Each gauge reads for itself: a registry collects its metrics concurrently.
  const quotaGauge = (name: string, help: string, field: 'used' | 'total') =>
    new Gauge({
      name,
      help,
      labelNames: ['instance', 'limit'],
      registers,
      async collect() {
        this.reset();
        for (const instance of idInstances) {
          const quota = await breaker.quota(instance).catch(() => undefined);
          for (const [limit, report] of Object.entries(quota ?? {})) {
            if (report?.[field] !== undefined) this.set({ instance, limit }, report[field]);
          }
        }
      },
    });
  quotaGauge('avatar_greenapi_quota_used', 'Used part of a plan limit (invoke: GetAvatar calls, correspondents: chats), as the last HTTP 466 said', 'used');
  quotaGauge('avatar_greenapi_quota_total', 'A plan limit (invoke: GetAvatar calls, correspondents: chats), as the last HTTP 466 said', 'total');
}

/** Whether each of the process's Redis connections is up right now (by name). */
export type ConnectionStates = () => Record<string, boolean>;

export function createMetrics(queues: Queue[] = [], upstream?: UpstreamInstances, connections?: ConnectionStates): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  if (upstream) instanceGauges(upstream, registers);
  if (connections) {
    new Gauge({
      name: 'avatar_redis_up',
      help: "1 while this process's Redis connection is ready, 0 while it is not",
      labelNames: ['connection'],
      registers,
      collect() {
        for (const [connection, up] of Object.entries(connections())) this.set({ connection }, up ? 1 : 0);
      },
    });
  }
  new Gauge({
    name: 'avatar_queue_jobs',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      for (const queue of queues) {
        const counts = await queue.getJobCounts(...JOB_STATES).catch(() => undefined);
        for (const state of JOB_STATES) if (counts) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    },
  });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'avatar_http_request_duration_seconds',
      help: 'HTTP request latency by route, status and X-Cache',
      labelNames: ['route', 'status', 'cache'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    avatarLookups: new Counter({
      name: 'avatar_cache_lookups_total',
      help: 'Avatar responses by cache result: hit (memory or Redis), miss (waited for a worker), stale',
      labelNames: ['result'],
      registers,
    }),
    greenApiCalls: new Counter({
      name: 'avatar_greenapi_calls_total',
      help: 'GetAvatar calls by outcome (avatar, no-avatar, not-on-whatsapp, invalid-chat-id, or an error kind)',
      labelNames: ['outcome'],
      registers,
    }),
    greenApiDuration: new Histogram({
      name: 'avatar_greenapi_call_duration_seconds',
      help: 'GetAvatar call latency by outcome',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    }),
    downloads: new Counter({ name: 'avatar_source_downloads_total', help: 'Source image downloads by outcome', labelNames: ['outcome'], registers }),
    downloadBytes: new Counter({ name: 'avatar_source_download_bytes_total', help: 'Bytes of source images downloaded', registers }),
    renderDuration: new Histogram({
      name: 'avatar_render_duration_seconds',
      help: 'Thumbnail render time by format',
      labelNames: ['format'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    jobsFailed: new Counter({ name: 'avatar_jobs_failed_total', help: 'Jobs that failed for good, by queue (a miss or a render done in the serving process counts under its queue)', labelNames: ['queue'], registers }),
    greenApiNotifications: new Counter({
      name: 'avatar_greenapi_notifications_total',
      help: "Green API webhook notifications by type and what they caused (queued, fresh, dropped: a warm lookup over MAX_WARM_BACKLOG; paused, resumed, ignored)",
      labelNames: ['type', 'outcome'],
      registers,
    }),
    placeholders: new Counter({
      name: 'avatar_placeholders_total',
      help: 'Avatar responses without a picture, by X-Avatar-Status (pending, error, rate-limited, no-avatar, private, not-on-whatsapp)',
      labelNames: ['status'],
      registers,
    }),
    storageOperations: new Counter({
      name: 'avatar_storage_operations_total',
      help: 'Durable store operations (get, has, put, delete, list) by outcome (ok, missing, corrupt, error)',
      labelNames: ['op', 'outcome'],
      registers,
    }),
  };
}
