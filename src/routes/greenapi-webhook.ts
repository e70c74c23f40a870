import express, { Router, type RequestHandler } from 'express';
import { AppError, badRequest } from '../errors';
import { parseNotifications, type NotificationHandler } from '../greenapi/notifications';
import { secretMatcher } from '../security/secret-match';

/** Green API sends one notification of a few KB; an app forwarding a backlog, up to this much. */
const MAX_BODY = '1mb';

/** Green API sends the instance's `webhookUrlToken` in Authorization: `Bearer <token>` or the bare token. */
function webhookToken(token: string): RequestHandler {
  const matches = secretMatcher(token);
  return (req, _res, next) => {
    const given = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    if (!matches(given)) throw new AppError(401, 'unauthorized', 'Authorization must be the webhookUrlToken (GREENAPI_WEBHOOK_TOKEN), bare or as Bearer');
    next();
  };
}

function parseJson(raw: unknown): unknown {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('invalid_json', 'the body is not JSON');
  }
}

/**
 * `POST /v1/greenapi/webhook`: answered as soon as what the notifications cause is queued (a lookup job, a
 * pause written), never after upstream work: Green API retries an unanswered notification every minute for
 * a day. While Redis cannot take the work, 503, so Green API delivers it again.
 */
export function greenApiWebhookRouter(token: string, handle: NotificationHandler): Router {
  const router = Router();
  // Any content type: Green API sends application/json, forwarders do not always say.
  router.post('/v1/greenapi/webhook', webhookToken(token), express.raw({ type: () => true, limit: MAX_BODY }), async (req, res) => {
    const notifications = parseNotifications(parseJson(req.body));
    let summary;
    try {
      summary = await handle(notifications);
    } catch {
      throw new AppError(503, 'unavailable', 'cannot queue the work now (Redis); deliver the notification again', { 'Retry-After': '60' });
    }
    res.set('Cache-Control', 'no-store').json(summary);
  });
  return router;
}
