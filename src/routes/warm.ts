import express, { Router } from 'express';
import { parseChatId } from '../avatar/chat-id';
import { AppError, badRequest } from '../errors';
import type { WarmBatches } from '../warm/batches';

export const MAX_WARM_IDS = 10_000;

interface InvalidId {
  id: string;
  error: string;
}

/** The ids of a warm request: JSON `{"chatIds":[...],"force"?:bool}` or text/plain, one id per line. */
type Scalar = string | number | boolean | null;

function readBody(body: unknown): { ids: Scalar[]; force: boolean } {
  if (typeof body === 'string') {
    return { ids: body.split(/\r?\n/).map((l) => l.trim()).filter(Boolean), force: false };
  }
  const json = body as { chatIds?: unknown; force?: unknown } | undefined;
  if (!json || !Array.isArray(json.chatIds)) {
    throw badRequest('invalid_body', 'send JSON {"chatIds":[...],"force"?:true} or text/plain with one id per line');
  }
  if (json.force !== undefined && typeof json.force !== 'boolean') throw badRequest('invalid_body', 'force must be true or false');
  // An id that is an object or a nested array makes the body malformed (and is never echoed back);
  // other non-strings are reported as invalid ids.
  if (json.chatIds.some((id) => typeof id === 'object' && id !== null)) {
    throw badRequest('invalid_body', 'chatIds must be a list of strings or numbers, not objects or lists');
  }
  return { ids: json.chatIds as Scalar[], force: json.force === true };
}

export function warmRouter(batches: WarmBatches): Router {
  const router = Router();
  router.post('/v1/warm', express.json({ limit: '2mb' }), express.text({ type: 'text/plain', limit: '2mb' }), async (req, res) => {
    const { ids, force } = readBody(req.body);
    if (ids.length === 0) throw badRequest('invalid_body', 'no ids given');
    if (ids.length > MAX_WARM_IDS) throw new AppError(413, 'too_many_ids', `at most ${MAX_WARM_IDS} ids per call (got ${ids.length})`);
    const chatIds = new Set<string>();
    const invalid: InvalidId[] = [];
    let duplicates = 0;
    for (const raw of ids) {
      const id = String(raw).trim();
      const chatId = id ? parseChatId(id) : undefined;
      if (!chatId) invalid.push({ id: String(raw).slice(0, 64), error: 'invalid_chat_id' });
      else if (chatIds.has(chatId)) duplicates++;
      else chatIds.add(chatId);
    }
    const batchId = chatIds.size > 0 ? await batches.start([...chatIds], force) : undefined;
    res.status(202).json({ batchId, accepted: chatIds.size, duplicates, invalid });
  });

  router.get('/v1/warm/:batchId', async (req, res) => {
    const status = /^[0-9a-f-]{36}$/.test(req.params.batchId) ? await batches.status(req.params.batchId) : undefined;
    if (!status) throw new AppError(404, 'unknown_batch', 'no such batch (batches are kept for a day)');
    res.json(status);
  });
  return router;
}
