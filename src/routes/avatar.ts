import { Router, type Request, type Response } from 'express';
import type { AvatarInfo } from '../avatar/info';
import { isInfoFile, parseAvatarRequest, parseInfoRequest, type AvatarRequest } from '../avatar/request';
import type { AvatarRead } from '../avatar/store';
import type { Format } from '../avatar/variant';
import { sendAvatar } from '../avatar/send';
import type { AvatarService } from '../avatar/service';
import { AppError } from '../errors';
import { clientIp } from '../security/client-ip';
import { checkSignature } from '../security/signing';
import { responseCacheKey, takePrefetched } from '../http/fast-path';
import { countServed } from '../http/served';
import type { CorsPolicy } from '../http/cors';
import type { Metrics } from '../metrics';
import type { PublicIds } from '../ids/public-id';
import type { Clock } from '../clock';

export interface AvatarRouteOptions {
  defaultSize: number;
  defaultFormat: Format;
  /** When set, every avatar URL needs a valid `sig` made with one of them. */
  signingKeys?: string[];
  cors: CorsPolicy;
  ids: PublicIds;
  /** What signature expiry (`exp`) is compared with. */
  clock: Clock;
}

export function avatarRouter(service: AvatarService, info: AvatarInfo, metrics: Metrics, { defaultSize, defaultFormat, signingKeys, cors, ids, clock }: AvatarRouteOptions): Router {
  const router = Router();

  async function serveImage(req: Request, res: Response, request: AvatarRequest, cacheKey: string, prior: { read?: AvatarRead; failure?: Error } = {}): Promise<void> {
    const response = await service.serve(request, { clientIp: clientIp(req), cacheKey, log: req.log, ...prior });
    sendAvatar(req, res, response, cors);
    countServed(metrics, response);
  }

  // One segment: `<id>.<format>` or `<id>`; the id/format split is ours (Express's `:id.:format` is greedy).
  router.get('/avatar/:file', async (req, res) => {
    // Parsed, verified and read by the fast path already (a miss it hands on): only the work that is left.
    const handed = takePrefetched(req);
    if (handed) return serveImage(req, res, handed.request, handed.cacheKey, handed);
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
    // Before any cache or upstream work: an unsigned URL learns nothing.
    const signature = signingKeys ? checkSignature(signingKeys, req.params.file, query, clock() / 1000) : 'valid';
    if (signature === 'invalid') throw new AppError(403, 'invalid_signature', 'this URL needs a valid sig parameter');
    if (signature === 'expired') throw new AppError(403, 'expired_signature', 'this signed URL has expired (exp)');
    if (isInfoFile(req.params.file)) {
      const request = parseInfoRequest(req.params.file, query, defaultSize, defaultFormat, ids);
      sendAvatar(req, res, await info(request, { clientIp: clientIp(req), cacheKey: '', log: req.log }), cors);
      return;
    }
    const request = parseAvatarRequest(req.params.file, query, req.headers.accept, defaultSize, ids);
    await serveImage(req, res, request, responseCacheKey(req.originalUrl, request));
  });
  // CORS preflight: what a cross-origin fetch() asks before a GET with its own headers.
  router.options('/avatar/:file', (req, res) => {
    res.set(cors.preflight(req)).set('Allow', 'GET, HEAD, OPTIONS').status(204).end();
  });
  router.all('/avatar/:file', () => {
    throw new AppError(405, 'method_not_allowed', 'use GET or HEAD', { Allow: 'GET, HEAD, OPTIONS' });
  });
  return router;
}
