import { Router, type RequestHandler } from 'express';
import type { Metrics } from '../metrics';
import type { Readiness } from '../readiness';

/** Health answers describe this moment: no cache (a shared cache must never keep a /healthz). */
const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

/** `/metrics` (Prometheus). */
export function metricsRouter(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', noStore, async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}

/**
 * `/healthz` (the process runs), `/readyz` (its Redis answers) and, unless it has a port of its own
 * (METRICS_PORT), `/metrics`: for load balancers, orchestrators and scrapers.
 */
export function healthRouter(readiness: Readiness, metrics: Metrics, { metricsHere }: { metricsHere: boolean }): Router {
  const router = Router();
  router.get('/healthz', noStore, (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', noStore, async (_req, res) => {
    const { ready, parts } = await readiness.check();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable', ...parts });
  });
  if (metricsHere) router.use(metricsRouter(metrics));
  return router;
}
