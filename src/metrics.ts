import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Queue } from 'bullmq';

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
}

const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

export function createMetrics(queues: Queue[] = []): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
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
    jobsFailed: new Counter({ name: 'avatar_jobs_failed_total', help: 'Jobs that failed for good, by queue', labelNames: ['queue'], registers }),
  };
}
