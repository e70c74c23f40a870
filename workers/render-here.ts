import type { AvatarStore } from '../src/avatar/store';
import type { Logger } from '../src/logger';
import type { Metrics } from '../src/metrics';
import type { RenderHere } from '../src/work/ensure';
import type { AvatarPipeline } from './avatar-pipeline';

export interface RenderHereDeps {
  store: AvatarStore;
  pipeline: AvatarPipeline;
  logger: Logger;
  metrics: Metrics;
}

/**
 * A request's new variant rendered in the process that serves it, when that process also runs the workers
 * (`npm start`): its source read from Redis, the render on the workers' sharp slots, the variant written back
 * and handed to the waiting requests (they do not read it back). About 5 Redis commands where a render job's
 * hop (add, fetch, complete, the completion event, the wait) made about 60. A source that is no longer in
 * Redis is fetched again by a render job, so one upstream download serves every process.
 */
export function createRenderHere({ store, pipeline, logger, metrics }: RenderHereDeps): RenderHere {
  return async (job) => {
    try {
      const source = await store.getSource(job.hash);
      if (!source) return 'queue';
      return { bytes: await pipeline.render(job.chatId, job.hash, source, job.size, job.format) };
    } catch (err) {
      // As a render job's final failure: counted, logged; the next request for the variant tries again.
      metrics.jobsFailed.inc({ queue: 'render' });
      logger.error({ chatId: job.chatId, size: job.size, format: job.format, err: (err as Error).message }, 'render failed');
      return 'failed';
    }
  };
}
