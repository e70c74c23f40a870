import type { Config } from '../config';
import { outboundHttp } from '../http/outbound';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { RedisClient } from '../redis';
import type { InstanceBreaker } from './breaker';
import { createGreenApiClient } from './client';
import { instrumentGreenApi } from './instrumented';
import { createInstancePool, type GreenApiPool } from './pool';

export interface GreenApiDeps {
  breaker: InstanceBreaker;
  /** Where call slots are claimed (the cache Redis). */
  cache: RedisClient;
  logger: Logger;
  metrics: Metrics;
  keyPrefix: string;
}

/** Every configured instance behind one pool: instrumented clients sharing one connection pool, one breaker. */
export function createGreenApi({ instances, timeoutMs, ratePerSec }: Config['greenApi'], { breaker, cache, logger, metrics, keyPrefix }: GreenApiDeps): GreenApiPool {
  const http = outboundHttp();
  return createInstancePool(
    instances.map((instance) => ({
      idInstance: instance.idInstance,
      client: instrumentGreenApi(createGreenApiClient({ ...instance, timeoutMs }, http), logger, metrics),
    })),
    breaker,
    cache,
    logger,
    { ratePerSec, keyPrefix },
  );
}
