import type { AxiosInstance } from 'axios';
import { outboundHttp } from '../http/outbound';
import { interpretAnswer, type AvatarReply, type GetAvatarBody } from './answer';
import { GreenApiError, type QuotaLimit, type QuotaReport } from './errors';
import { scrub } from './scrub';

export type { AvatarReply } from './answer';

export interface GreenApiInstance {
  url: string;
  idInstance: string;
  apiToken: string;
  /** One deadline for the whole call: connection, headers and body. */
  timeoutMs: number;
}

export interface GreenApiClient {
  getAvatar(chatId: string): Promise<AvatarReply>;
}

/** An instance's own client: GetAvatar, and GetContacts (the ids of its address book, unvalidated). */
export interface InstanceClient extends GreenApiClient {
  getContacts(): Promise<string[]>;
}

/** A GetAvatar answer is a few hundred bytes; anything much larger is not one. */
export const MAX_ANSWER_BYTES = 64 * 1024;
/** A GetContacts answer is ~100 bytes a contact: 16 MiB is well over 100,000 contacts. */
export const MAX_CONTACTS_BYTES = 16 * 1024 * 1024;

function retryAfterMs(header: unknown): number | undefined {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

const asText = (body: unknown): string => (typeof body === 'string' ? body : JSON.stringify(body ?? ''));

export function quotaLimit(value: unknown, secrets: string[]): QuotaLimit | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const count = (n: unknown) => (n === undefined || n === null || n === '' || !Number.isFinite(Number(n)) ? undefined : Number(n));
  const text = (s: unknown) => (typeof s === 'string' ? scrub(s, secrets) : '');
  return { method: text(v.method), used: count(v.used), total: count(v.total), status: text(v.status), description: text(v.description) };
}

/** A 466 body: `invokeStatus` (the method's monthly calls) and `correspondentsStatus` (the monthly chats). */
function quotaReport(body: unknown, secrets: string[]): QuotaReport {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  return { invoke: quotaLimit(b.invokeStatus, secrets), correspondents: quotaLimit(b.correspondentsStatus, secrets) };
}

/**
 * A 400 is either Green API refusing this chatId (a per-request validation error: a permanent answer for
 * that chatId) or the instance not being ready (not authorized, starting: pause the instance).
 */
const CHAT_ID_REFUSED = /validation failed|chatid/i;
const INSTANCE_NOT_READY = /not ?authori[sz]ed|notAuthorized|starting|blocked|sleep|yellowCard|instance/i;

type Method = 'GetAvatar' | 'GetContacts';

/** Why a call got no answer, by HTTP status (and, for a 400, the scrubbed message): `chat-id-refused` is GetAvatar's answer for that chatId. */
function errorForStatus(method: Method, status: number, headers: Record<string, unknown>, body: unknown, secrets: string[]): GreenApiError | 'chat-id-refused' {
  const text = asText(body);
  if (status === 429) return new GreenApiError('rate-limited', `${method} rate limited (HTTP 429)`, status, retryAfterMs(headers['retry-after']));
  if (status === 401) return new GreenApiError('unauthorized', `${method} refused the apiTokenInstance (HTTP 401)`, status);
  if (status === 403) return new GreenApiError('unauthorized', `${method} refused the idInstance (HTTP 403)`, status);
  if (status === 400) {
    // Classified on the scrubbed message: the echoed request path must not read as "instance".
    const raw = typeof body === 'object' && body !== null ? asText((body as { message?: unknown }).message ?? '') : text;
    const message = scrub(raw, secrets);
    if (method === 'GetAvatar' && CHAT_ID_REFUSED.test(message)) return 'chat-id-refused';
    if (INSTANCE_NOT_READY.test(message)) return new GreenApiError('unauthorized', `${method}: instance not ready (HTTP 400: ${message})`, status);
    return new GreenApiError('rejected', `${method} refused the request (HTTP 400: ${message})`, status);
  }
  if (status === 466) {
    const quota = quotaReport(body, secrets);
    const limit = quota.invoke ?? quota.correspondents;
    const numbers = limit ? `: ${limit.method || 'limit'} ${limit.used ?? '?'}/${limit.total ?? '?'} ${limit.status}` : '';
    return new GreenApiError('quota', `${method}: plan quota exceeded (HTTP 466${numbers})`, status, undefined, quota);
  }
  if (status >= 500) return new GreenApiError('transient', `${method} upstream error (HTTP ${status})`, status);
  return new GreenApiError('rejected', `${method} unexpected HTTP ${status}`, status);
}

export function createGreenApiClient(instance: GreenApiInstance, http: AxiosInstance = outboundHttp()): InstanceClient {
  const endpoint = (method: string) => `${instance.url}/waInstance${instance.idInstance}/${method}/${instance.apiToken}`;
  const secrets = [instance.apiToken];

  /** One call, bounded in time and bytes; its errors never carry the URL (it holds the token). */
  async function call(method: Method, request: { method: 'GET' | 'POST'; data?: unknown }, maxBytes: number) {
    // axios's `timeout` stops counting once headers arrive; the signal bounds a trickled body too.
    const signal = AbortSignal.timeout(instance.timeoutMs);
    try {
      return await http.request({
        ...request,
        url: endpoint(method.charAt(0).toLowerCase() + method.slice(1)),
        timeout: instance.timeoutMs,
        signal,
        maxContentLength: maxBytes,
        validateStatus: () => true,
        maxRedirects: 0,
        headers: request.data === undefined ? {} : { 'Content-Type': 'application/json' },
      });
    } catch (err) {
      // Never rethrow the axios error: its config.url carries the token.
      if (signal.aborted) throw new GreenApiError('transient', `${method} took longer than ${instance.timeoutMs} ms`);
      const code = (err as { code?: string }).code;
      if (code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test((err as Error).message)) {
        throw new GreenApiError('transient', `${method} answer larger than ${maxBytes} bytes`);
      }
      throw new GreenApiError('transient', `${method} request failed (${code ?? 'network error'})`);
    }
  }

  return {
    async getAvatar(chatId) {
      const response = await call('GetAvatar', { method: 'POST', data: { chatId } }, MAX_ANSWER_BYTES);
      if (response.status !== 200) {
        const outcome = errorForStatus('GetAvatar', response.status, response.headers, response.data, secrets);
        if (outcome === 'chat-id-refused') return { kind: 'invalid-chat-id' };
        throw outcome;
      }
      if (typeof response.data !== 'object' || response.data === null || Array.isArray(response.data)) {
        throw new GreenApiError('transient', 'GetAvatar answered a body that is not a JSON object', 200);
      }
      return interpretAnswer(response.data as GetAvatarBody, secrets);
    },

    async getContacts() {
      const response = await call('GetContacts', { method: 'GET' }, MAX_CONTACTS_BYTES);
      if (response.status !== 200) {
        const outcome = errorForStatus('GetContacts', response.status, response.headers, response.data, secrets);
        throw outcome === 'chat-id-refused' ? new GreenApiError('rejected', 'GetContacts refused the request (HTTP 400)', 400) : outcome;
      }
      if (!Array.isArray(response.data)) throw new GreenApiError('transient', 'GetContacts answered a body that is not a JSON array', 200);
      // Entries without a string id are not contacts; ids are validated by whoever warms them.
      return (response.data as unknown[]).flatMap((entry) => {
        const id = typeof entry === 'object' && entry !== null ? (entry as { id?: unknown }).id : undefined;
        return typeof id === 'string' ? [id] : [];
      });
    },
  };
}
