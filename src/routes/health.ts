import { Router } from 'express';
import type { Metrics } from '../metrics';
import type { Readiness } from '../readiness';

/** `/healthz` (process alive) and `/metrics` (Prometheus): open to load balancers and scrapers. */
export function livenessRouter(metrics: Metrics): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}

export function healthRouter(readiness: Readiness, metrics: Metrics): Router {
  const router = livenessRouter(metrics);
  router.get('/readyz', async (_req, res) => {
    const { ready, parts } = await readiness.check();
    res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json({ status: ready ? 'ok' : 'unavailable', ...parts });
  });
  return router;
}
