import express, { Router } from 'express';
import { parseChatId } from '../avatar/chat-id';
import { AppError, badRequest } from '../errors';
import { GreenApiError } from '../greenapi/errors';
import type { WarmBatches } from '../warm/batches';

/** The address books of the configured instances (Green API's GetContacts, through the instance pool). */
export interface ContactLists {
  idInstances: string[];
  getContacts(idInstance: string): Promise<string[]>;
}

export const MAX_WARM_IDS = 10_000;

interface InvalidId {
  id: string;
  error: string;
}

/**
 * The ids of a warm request: JSON `{"chatIds":[...],"force"?:bool}` or text/plain, one id per line; or
 * `{"source":"contacts","instance"?:"<idInstance>","force"?:bool}`: the instances' address books.
 */
type Scalar = string | number | boolean | null;
type WarmBody = { ids: Scalar[]; force: boolean } | { source: 'contacts'; instance?: string; force: boolean };

function readBody(body: unknown): WarmBody {
  if (typeof body === 'string') {
    return { ids: body.split(/\r?\n/).map((l) => l.trim()).filter(Boolean), force: false };
  }
  const json = body as { chatIds?: unknown; force?: unknown; source?: unknown; instance?: unknown } | undefined;
  if (json?.force !== undefined && typeof json.force !== 'boolean') throw badRequest('invalid_body', 'force must be true or false');
  if (json?.source !== undefined) {
    if (json.source !== 'contacts') throw badRequest('invalid_body', 'source must be "contacts"');
    if (json.chatIds !== undefined) throw badRequest('invalid_body', 'give chatIds or source, not both');
    if (json.instance !== undefined && typeof json.instance !== 'string' && typeof json.instance !== 'number') {
      throw badRequest('invalid_body', 'instance must be an idInstance');
    }
    return { source: 'contacts', instance: json.instance === undefined ? undefined : String(json.instance), force: json.force === true };
  }
  if (!json || !Array.isArray(json.chatIds)) {
    throw badRequest('invalid_body', 'send JSON {"chatIds":[...],"force"?:true}, {"source":"contacts"} or text/plain with one id per line');
  }
  // An id that is an object or a nested array makes the body malformed (and is never echoed back);
  // other non-strings are reported as invalid ids.
  if (json.chatIds.some((id) => typeof id === 'object' && id !== null)) {
    throw badRequest('invalid_body', 'chatIds must be a list of strings or numbers, not objects or lists');
  }
  return { ids: json.chatIds as Scalar[], force: json.force === true };
}

/** Every id of the asked instances' address books (one GetContacts call each), or the HTTP error that says why not. */
async function contactsOf(lists: ContactLists, instance: string | undefined): Promise<string[]> {
  if (instance !== undefined && !lists.idInstances.includes(instance)) {
    throw badRequest('unknown_instance', `instance must be one of the configured idInstances (${lists.idInstances.join(', ')})`);
  }
  const ids: string[] = [];
  for (const idInstance of instance === undefined ? lists.idInstances : [instance]) {
    try {
      ids.push(...(await lists.getContacts(idInstance)));
    } catch (err) {
      if (!(err instanceof GreenApiError)) throw err;
      // The message is ours (no token, no upstream body but a scrubbed excerpt).
      const paused = err.kind === 'unauthorized' || err.kind === 'quota' || err.kind === 'rate-limited';
      throw new AppError(paused ? 503 : 502, paused ? 'upstream_unavailable' : 'upstream_error', `instance ${idInstance}: ${err.message}`);
    }
  }
  return ids;
}

export function warmRouter(batches: WarmBatches, contacts: ContactLists): Router {
  const router = Router();
  router.post('/v1/warm', express.json({ limit: '2mb' }), express.text({ type: 'text/plain', limit: '2mb' }), async (req, res) => {
    const body = readBody(req.body);
    const { force } = body;
    const fromContacts = 'source' in body;
    const ids: Scalar[] = fromContacts ? await contactsOf(contacts, body.instance) : body.ids;
    if (ids.length === 0) throw badRequest(fromContacts ? 'no_contacts' : 'invalid_body', fromContacts ? 'GetContacts listed no contacts (Green API: an empty list may need a new call a few minutes later)' : 'no ids given');
    // An address book is as long as it is: the warm backlog bounds it.
    if (!fromContacts && ids.length > MAX_WARM_IDS) throw new AppError(413, 'too_many_ids', `at most ${MAX_WARM_IDS} ids per call (got ${ids.length})`);
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
