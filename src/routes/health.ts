import type { IncomingMessage } from 'node:http';
import { Router, type RequestHandler } from 'express';
import type { Metrics } from '../metrics';
import { READINESS_STATUSES, type Readiness } from '../readiness';

/** Health answers describe this moment: no cache (a shared cache must never keep a /healthz). */
const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

/** `/metrics` (Prometheus). */
function metricsRouter(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', noStore, async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}

export interface HealthOptions {
  /** `/metrics` here too (false when METRICS_PORT gives it a port of its own). */
  metricsHere: boolean;
  /**
   * Whether a request may read `/readyz`'s details (which part failed and why, the Green API instances and their
   * state): on the public port only with the admin token; on internal ports (METRICS_PORT, a worker's) always.
   */
  showDetails(req: IncomingMessage): boolean;
}

/**
 * `/healthz` (the process runs), `/readyz` (its Redis answers) and, unless it has a port of its own
 * (METRICS_PORT), `/metrics`: for load balancers, orchestrators and scrapers.
 */
export function healthRouter(readiness: Readiness, metrics: Metrics, { metricsHere, showDetails }: HealthOptions): Router {
  const router = Router();
  router.get('/healthz', noStore, (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', noStore, async (req, res) => {
    const { ready, parts } = await readiness.check();
    const status = ready ? READINESS_STATUSES.ready : READINESS_STATUSES.unready;
    res.status(ready ? 200 : 503).json(showDetails(req) ? { status, ...parts } : { status });
  });
  if (metricsHere) router.use(metricsRouter(metrics));
  return router;
}
