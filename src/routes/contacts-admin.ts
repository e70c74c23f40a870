import { Router } from 'express';
import { requireChatId } from '../avatar/chat-id';
import type { AvatarStore } from '../avatar/store';
import { onceAt, PRIORITY, resolveKey } from '../queue/jobs';
import type { AvatarQueues } from '../queue/queues';

/**
 * One contact, by hand (mount behind adminOnly):
 *  - POST /v1/avatars/:id/refresh: resolve again now, whatever the freshness; one GetAvatar call (joined if
 *    one is in flight), within the rate limit, before waiting warm work.
 *  - DELETE /v1/avatars/:id: forget the answer (its thumbnails, a failure marker); the next request resolves again.
 */
export function contactsAdminRouter(store: AvatarStore, queues: AvatarQueues): Router {
  const router = Router();
  router.post('/v1/avatars/:id/refresh', async (req, res) => {
    const chatId = requireChatId(req.params.id);
    await queues.resolve.add('resolve', { chatId, force: true }, onceAt(resolveKey(chatId), PRIORITY.interactive));
    res.status(202).json({ chatId, refresh: 'queued' });
  });
  router.delete('/v1/avatars/:id', async (req, res) => {
    await store.forget(requireChatId(req.params.id));
    res.status(204).end();
  });
  return router;
}
