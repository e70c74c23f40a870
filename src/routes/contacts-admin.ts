import { Router } from 'express';
import { AppError } from '../errors';
import type { ClientLimiter } from '../security/client-limiter';
import { requireChatId } from '../avatar/chat-id';
import type { AvatarStore } from '../avatar/store';
import { onceAt, PRIORITY, resolveKey } from '../queue/jobs';
import type { AvatarQueues } from '../queue/queues';

/**
 * One contact, by hand (mount behind adminOnly):
 *  - POST /v1/avatars/:id/refresh: resolve again now, whatever the freshness; one GetAvatar call (joined if
 *    one is in flight), within the rate limit and REFRESH_RATE_PER_MIN, after page views' lookups and before
 *    waiting warm work.
 *  - DELETE /v1/avatars/:id: forget the answer (its thumbnails, a failure marker); the next request resolves again.
 */
/** Queues a forced lookup of a contact (429 past REFRESH_RATE_PER_MIN, all callers together). */
export type RefreshContact = (chatId: string) => Promise<void>;

export function createRefreshContact(queues: AvatarQueues, refreshes: ClientLimiter): RefreshContact {
  return async (chatId) => {
    // One budget for every caller: refreshes are billed GetAvatar calls like any other.
    const retryAfter = await refreshes.take('all');
    if (retryAfter > 0) throw new AppError(429, 'rate_limited', 'too many refreshes (REFRESH_RATE_PER_MIN); retry later', { 'Retry-After': String(retryAfter) });
    await queues.resolve.add('resolve', { chatId, force: true }, onceAt(resolveKey(chatId), PRIORITY.refresh));
  };
}

export function contactsAdminRouter(store: AvatarStore, refresh: RefreshContact): Router {
  const router = Router();
  router.post('/v1/avatars/:id/refresh', async (req, res) => {
    const chatId = requireChatId(req.params.id);
    await refresh(chatId);
    res.status(202).json({ chatId, refresh: 'queued' });
  });
  router.delete('/v1/avatars/:id', async (req, res) => {
    await store.forget(requireChatId(req.params.id));
    res.status(204).end();
  });
  return router;
}
