import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { AvatarStore } from './avatar/store';
import type { Config } from './config';
import { AppError, errorBody } from './errors';
import type { PublicIds } from './ids/public-id';
import { requestIdOf } from './http/request-id';
import { openApiDocument } from './openapi';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { Readiness } from './readiness';
import { healthRouter } from './routes/health';
import { QUEUE_DASHBOARD_PATH, queueDashboard } from './routes/admin';
import { warmRouter, type ContactLists } from './routes/warm';
import { greenApiWebhookRouter } from './routes/greenapi-webhook';
import type { NotificationHandler } from './greenapi/notifications';
import { contactsAdminRouter, createRefreshContact } from './routes/contacts-admin';
import { demoPageRouter } from './routes/demo-page';
import type { AvatarQueues } from './queue/queues';
import { adminOnly, isAdmin } from './security/admin-auth';
import type { ClientLimiter } from './security/client-limiter';
import type { WarmBatches } from './warm/batches';

export interface AppDeps {
  store: AvatarStore;
  batches: WarmBatches;
  queues: AvatarQueues;
  readiness: Readiness;
  metrics: Metrics;
  logger: Logger;
  security: Config['security'];
  demoPage?: Config['demoPage'];
  /** /metrics on the app's own port (false when METRICS_PORT gives it one). */
  metricsHere: boolean;
  ids: PublicIds;
  /** REFRESH_RATE_PER_MIN: admin refreshes, all callers together. */
  refreshLimit: ClientLimiter;
  /** GetContacts of the configured instances, for `POST /v1/warm {"source":"contacts"}`. */
  contacts: ContactLists;
  /** Green API's notifications, when GREENAPI_WEBHOOK_TOKEN is set. */
  notifications?: { token: string; handle: NotificationHandler };
}

/** Errors carry their status; anything else is a 500 whose details stay in the log. No error is kept by a cache. */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    res.set('Cache-Control', 'no-store');
    if (err instanceof AppError) {
      res.status(err.statusCode).set(err.headers).json(errorBody(err.code, err.message));
      return;
    }
    const { status, type } = err as { status?: number; type?: string };
    if (type === 'entity.too.large') {
      res.status(413).json(errorBody('body_too_large', 'the body is larger than this route takes'));
      return;
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Express's own client errors: a malformed percent-encoding, a bad body.
      res.status(status).json(errorBody('bad_request', 'malformed request'));
      return;
    }
    logger.error({ method: req.method, path: req.path, err: (err as Error).message }, 'unhandled error');
    res.status(500).json(errorBody('internal_error', 'internal error'));
  };
}

const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** A request id on every log line of a request; hits and revalidations are not logged (they are nearly all traffic). */
function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const id = requestIdOf(req);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (req, res, err) => {
      // Probes and scrapes come every few seconds; a failing /readyz is already the outage log's line, a
      // failing scrape the scraper's.
      if (QUIET_PATHS.has((req.url ?? '').split('?')[0]!)) return 'silent';
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return res.getHeader('x-cache') === 'HIT' || res.statusCode === 304 ? 'silent' : 'info';
    },
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

/** Latency by route pattern (never the raw path: ids would make unbounded label values). */
function requestMetrics(metrics: Metrics): RequestHandler {
  const route = (req: Request) => (req.route ? `${req.baseUrl}${String(req.route.path)}` : req.baseUrl || 'unmatched');
  return (req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    res.on('finish', () => stop({ route: route(req), status: String(res.statusCode), cache: String(res.getHeader('x-cache') ?? '') }));
    next();
  };
}

/** Builds the Express app without listening (tests hand it to supertest). */
export function createApp({ store, batches, queues, readiness, metrics, logger, security, demoPage, metricsHere, ids, refreshLimit, contacts, notifications }: AppDeps): Express {
  const app = express();
  const refresh = createRefreshContact(queues, refreshLimit);
  app.disable('x-powered-by');
  app.set('etag', false);
  // Whether X-Forwarded-For is believed for req.ip (the per-client miss limit).
  app.set('trust proxy', security.trustProxy);
  app.use(requestMetrics(metrics));
  app.use(requestLogging(logger));
  app.use(healthRouter(readiness, metrics, { metricsHere, showDetails: isAdmin(security.adminToken) }));
  // Browsers ask every origin for one: an empty answer they may keep, not a JSON 404 in every log.
  app.get('/favicon.ico', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=86400').status(204).end();
  });
  app.get('/openapi.json', (_req, res) => {
    res.set('Cache-Control', 'no-cache').json(openApiDocument);
  });
  // Admin: off (404) without ADMIN_TOKEN, else Bearer-authenticated.
  const admin = adminOnly(security.adminToken);
  app.use('/v1/warm', admin);
  app.use(warmRouter(batches, contacts));
  if (notifications) app.use(greenApiWebhookRouter(notifications.token, notifications.handle));
  app.use(QUEUE_DASHBOARD_PATH, admin, queueDashboard(queues));
  app.use('/v1/avatars', admin);
  app.use(contactsAdminRouter(store, refresh));
  if (demoPage) app.use(demoPageRouter(demoPage.contacts, { signingKey: security.signingKeys?.[0], ids }, refresh));
  app.use((_req, res) => {
    res.status(404).set('Cache-Control', 'no-store').json(errorBody('not_found', 'no such route'));
  });
  app.use(errorHandler(logger));
  return app;
}
