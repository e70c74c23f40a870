import { Router } from 'express';
import { parseAvatarRequest } from '../avatar/request';
import { sendAvatar } from '../avatar/send';
import type { AvatarService } from '../avatar/service';
import { AppError } from '../errors';

export function avatarRouter(service: AvatarService, defaultSize: number): Router {
  const router = Router();
  // One segment: `<id>.<format>` or `<id>`; the id/format split is ours (Express's `:id.:format` is greedy).
  router.get('/avatar/:file', async (req, res) => {
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
    const request = parseAvatarRequest(req.params.file, query, req.headers.accept, defaultSize);
    sendAvatar(req, res, await service.serve(request));
  });
  router.all('/avatar/:file', () => {
    throw new AppError(405, 'method_not_allowed', 'use GET or HEAD', { Allow: 'GET, HEAD' });
  });
  return router;
}
