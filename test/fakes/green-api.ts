import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { closeServer, delay, drainedOrClosed, listenOnLoopback, readBody } from './http-util';

/**
 * The three generations of GetAvatar's documented answer:
 *  - exists:    `{"existsWhatsapp": bool, "urlAvatar": "..."}` (older pages)
 *  - url-only:  `{"urlAvatar": "..."}`, empty when there is no picture (the current English page)
 *  - available: `{"urlAvatar": "...", "available": bool}` (the official JS clients' types; false = hidden)
 */
export type AnswerGeneration = 'exists' | 'url-only' | 'available';
export const GENERATIONS: readonly AnswerGeneration[] = ['exists', 'url-only', 'available'];

/**
 * A fake Green API that speaks GetAvatar as documented:
 * `POST {apiUrl}/waInstance{idInstance}/getAvatar/{apiTokenInstance}` with `{"chatId": "..."}`.
 * Wrong token: 401; wrong idInstance: 403. Per chatId it answers what it is told, in the generation it is
 * told (default `exists`), and it counts calls.
 */
export type GetAvatarBehaviour =
  | { kind: 'avatar'; url: string; generation?: AnswerGeneration }
  | { kind: 'no-avatar'; generation?: AnswerGeneration }
  /** On WhatsApp, picture hidden by privacy settings. */
  | { kind: 'hidden'; generation?: AnswerGeneration }
  | { kind: 'not-on-whatsapp'; generation?: AnswerGeneration }
  /** Green API's own validation 400, echoing the request path (token included), as the real one does. */
  | { kind: 'validation-400' }
  /** The connection is cut before any answer. */
  | { kind: 'reset' }
  /** HTTP 200 whose body of `bytes` bytes arrives `chunkBytes` at a time, every `intervalMs` (a trickle, a flood). */
  | { kind: 'stream'; bytes: number; chunkBytes: number; intervalMs: number }
  /** HTTP 200 with a `reason` (`bad request data`, `get avatar timeout limit exceeded`, ...). */
  | { kind: 'reason'; reason: string }
  /** Any HTTP status and body (429 with Retry-After, 466 with invokeStatus, 500, ...). */
  | { kind: 'http'; status: number; body?: unknown; headers?: Record<string, string> }
  /** An exact JSON body with HTTP 200 (e.g. the `available` spelling). */
  | { kind: 'json'; body: unknown };

export interface GetAvatarCall {
  chatId: string;
  at: number;
}

interface Rule {
  behaviour: GetAvatarBehaviour;
  delayMs: number;
}

export interface FakeGreenApiOptions {
  idInstance?: string;
  apiToken?: string;
  /** What to answer for a chatId nobody configured. */
  fallback?: GetAvatarBehaviour;
}

export class FakeGreenApi extends EventEmitter {
  readonly idInstance: string;
  readonly apiToken: string;
  readonly calls: GetAvatarCall[] = [];
  /** Bytes each `stream` answer had written when its connection closed. */
  readonly streamed: number[] = [];
  private readonly rules = new Map<string, Rule>();
  private readonly queued = new Map<string, GetAvatarBehaviour[]>();
  private fallback: GetAvatarBehaviour;
  /** GetContacts's answer: the documented entries (id, name, contactName, type). */
  private contacts: { id: string; name: string; contactName?: string; type: 'user' | 'group' }[] = [];
  /** GetContacts calls received. */
  contactsCalls = 0;
  private server?: Server;
  url = '';

  constructor(options: FakeGreenApiOptions = {}) {
    super();
    this.idInstance = options.idInstance ?? '1101000001';
    this.apiToken = options.apiToken ?? 'fake-token-d41d8cd98f00b204e9800998ecf8427e';
    this.fallback = options.fallback ?? { kind: 'not-on-whatsapp' };
  }

  async start(port = 0): Promise<string> {
    const { server, url } = await listenOnLoopback((req, res) => void this.handle(req, res), port);
    this.server = server;
    this.url = url;
    return url;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  /** What to answer for a chatId from now on, optionally after a delay. */
  set(chatId: string, behaviour: GetAvatarBehaviour, delayMs = 0): this {
    this.rules.set(chatId, { behaviour, delayMs });
    return this;
  }

  setFallback(behaviour: GetAvatarBehaviour): this {
    this.fallback = behaviour;
    return this;
  }

  /** Answers the next calls for a chatId with these, in order, then goes back to its rule. */
  queue(chatId: string, ...behaviours: GetAvatarBehaviour[]): this {
    this.queued.set(chatId, [...(this.queued.get(chatId) ?? []), ...behaviours]);
    return this;
  }

  /** The address book GetContacts answers from now on. */
  setContacts(ids: string[]): this {
    this.contacts = ids.map((id, i) => ({ id, name: `Contact ${i}`, contactName: `Book ${i}`, type: id.endsWith('@g.us') ? 'group' : 'user' }));
    return this;
  }

  callsFor(chatId: string): number {
    return this.calls.filter((c) => c.chatId === chatId).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const contacts = /^\/waInstance([^/]+)\/getContacts\/([^/?]+)(\?.*)?$/.exec(req.url ?? '');
    if (contacts) {
      if (req.method !== 'GET') return this.send(res, 405, { message: 'method not allowed' });
      if (contacts[1] !== this.idInstance) return this.send(res, 403, { message: 'Forbidden' });
      if (contacts[2] !== this.apiToken) return this.send(res, 401, { message: 'Unauthorized' });
      this.contactsCalls++;
      return this.send(res, 200, this.contacts);
    }
    const match = /^\/waInstance([^/]+)\/getAvatar\/([^/?]+)$/.exec(req.url ?? '');
    if (!match) return this.send(res, 404, { message: 'unknown method' });
    if (req.method !== 'POST') return this.send(res, 405, { message: 'method not allowed' });
    if (match[1] !== this.idInstance) return this.send(res, 403, { message: 'Forbidden' });
    if (match[2] !== this.apiToken) return this.send(res, 401, { message: 'Unauthorized' });
    let chatId: unknown;
    try {
      chatId = (JSON.parse(await readBody(req)) as { chatId?: unknown }).chatId;
    } catch {
      return this.send(res, 400, { message: 'body is not JSON' });
    }
    if (typeof chatId !== 'string') return this.send(res, 200, { reason: 'bad request data' });

    this.calls.push({ chatId, at: Date.now() });
    this.emit('call', chatId);
    const rule = this.rules.get(chatId);
    const behaviour = this.queued.get(chatId)?.shift() ?? rule?.behaviour ?? this.fallback;
    if (rule?.delayMs) await delay(rule.delayMs);
    if (res.destroyed) return;
    switch (behaviour.kind) {
      case 'avatar':
      case 'no-avatar':
      case 'hidden':
      case 'not-on-whatsapp':
        return this.send(res, 200, answerBody(behaviour));
      case 'validation-400':
        return this.send(res, 400, {
          statusCode: 400,
          timestamp: new Date().toISOString(),
          path: req.url,
          message: "Validation failed. Details: 'chatId' must be one of the next formats: 'phone_number@c.us' or 'chat_id@lid'",
        });
      case 'reset':
        res.socket?.destroy();
        return;
      case 'stream':
        return this.stream(res, behaviour);
      case 'reason':
        return this.send(res, 200, { existsWhatsapp: false, urlAvatar: '', reason: behaviour.reason });
      case 'json':
        return this.send(res, 200, behaviour.body);
      case 'http':
        return this.send(res, behaviour.status, behaviour.body ?? {}, behaviour.headers);
    }
  }

  private async stream(res: ServerResponse, { bytes, chunkBytes, intervalMs }: { bytes: number; chunkBytes: number; intervalMs: number }): Promise<void> {
    let sent = 0;
    res.once('close', () => this.streamed.push(sent));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const chunk = Buffer.alloc(chunkBytes, 0x20);
    while (sent < bytes && !res.destroyed) {
      const piece = chunk.subarray(0, Math.min(chunkBytes, bytes - sent));
      sent += piece.length;
      if (!res.write(piece)) await drainedOrClosed(res);
      if (intervalMs) await delay(intervalMs);
    }
    if (!res.destroyed) res.end();
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }
}

type AnswerBehaviour = Extract<GetAvatarBehaviour, { kind: 'avatar' | 'no-avatar' | 'hidden' | 'not-on-whatsapp' }>;

/** The body each generation gives for each case. */
export function answerBody(behaviour: AnswerBehaviour): Record<string, unknown> {
  const url = behaviour.kind === 'avatar' ? behaviour.url : '';
  switch (behaviour.generation ?? 'exists') {
    case 'exists':
      return { existsWhatsapp: behaviour.kind !== 'not-on-whatsapp', urlAvatar: url };
    case 'url-only':
      return { urlAvatar: url };
    case 'available':
      return { urlAvatar: url, available: behaviour.kind === 'avatar' || behaviour.kind === 'no-avatar' };
  }
}
