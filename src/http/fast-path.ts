import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { negotiateFormat } from '../avatar/variant';
import { sendAvatar } from '../avatar/send';
import type { AvatarService } from '../avatar/service';
import type { Metrics } from '../metrics';

/**
 * The key under which a ready response is kept in memory: the request URL exactly as received (so a hit
 * needs no parsing, and a signed URL is only ever served after it was verified once), plus the negotiated
 * format when the URL has no extension.
 */
export function responseCacheKey(url: string, negotiatedFormat?: string): string {
  return negotiatedFormat ? `${url}\n${negotiatedFormat}` : url;
}

/**
 * A plain `http` handler in front of the Express app: it answers avatars already in this process's memory
 * (headers prepared when they were cached) and hands everything else to Express. Express's per-request
 * machinery costs most of this machine's throughput; hits are nearly all traffic.
 */
export function createFastPath(avatars: AvatarService, app: RequestListener, metrics: Metrics): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    if ((req.method === 'GET' || req.method === 'HEAD') && url.startsWith('/avatar/')) {
      const started = performance.now();
      const hit = avatars.cached(url) ?? avatars.cached(responseCacheKey(url, negotiateFormat(req.headers.accept)));
      if (hit) {
        sendAvatar(req, res, hit);
        metrics.avatarLookups.inc({ result: 'hit' });
        metrics.httpDuration.observe({ route: '/avatar/:file', status: String(res.statusCode), cache: 'HIT' }, (performance.now() - started) / 1000);
        return;
      }
    }
    app(req, res);
  };
}
