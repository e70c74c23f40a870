import type { AxiosInstance } from 'axios';
import { outboundHttp } from '../http/outbound';
import { interpretAnswer, type AvatarAnswer, type GetAvatarBody } from './answer';
import { GreenApiError, type QuotaLimit, type QuotaReport } from './errors';
import { scrub } from './scrub';

export type { AvatarAnswer } from './answer';

export interface GreenApiInstance {
  url: string;
  idInstance: string;
  apiToken: string;
  /** One deadline for the whole call: connection, headers and body. */
  timeoutMs: number;
}

export interface GreenApiClient {
  getAvatar(chatId: string): Promise<AvatarAnswer>;
}

/** A GetAvatar answer is a few hundred bytes; anything much larger is not one. */
export const MAX_ANSWER_BYTES = 64 * 1024;

function retryAfterMs(header: unknown): number | undefined {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

const asText = (body: unknown): string => (typeof body === 'string' ? body : JSON.stringify(body ?? ''));

function quotaLimit(value: unknown, secrets: string[]): QuotaLimit | undefined {
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

function errorForStatus(status: number, headers: Record<string, unknown>, body: unknown, secrets: string[]): GreenApiError | AvatarAnswer {
  const text = asText(body);
  if (status === 429) return new GreenApiError('rate-limited', 'GetAvatar rate limited (HTTP 429)', status, retryAfterMs(headers['retry-after']));
  if (status === 401) return new GreenApiError('unauthorized', 'GetAvatar refused the apiTokenInstance (HTTP 401)', status);
  if (status === 403) return new GreenApiError('unauthorized', 'GetAvatar refused the idInstance (HTTP 403)', status);
  if (status === 400) {
    // Classified on the scrubbed message: the echoed request path must not read as "instance".
    const raw = typeof body === 'object' && body !== null ? asText((body as { message?: unknown }).message ?? '') : text;
    const message = scrub(raw, secrets);
    if (CHAT_ID_REFUSED.test(message)) return { kind: 'invalid-chat-id' };
    if (INSTANCE_NOT_READY.test(message)) return new GreenApiError('unauthorized', `GetAvatar: instance not ready (HTTP 400: ${message})`, status);
    return new GreenApiError('rejected', `GetAvatar refused the request (HTTP 400: ${message})`, status);
  }
  if (status === 466) {
    const quota = quotaReport(body, secrets);
    const limit = quota.invoke ?? quota.correspondents;
    const numbers = limit ? `: ${limit.method || 'limit'} ${limit.used ?? '?'}/${limit.total ?? '?'} ${limit.status}` : '';
    return new GreenApiError('quota', `GetAvatar: plan quota exceeded (HTTP 466${numbers})`, status, undefined, quota);
  }
  if (status >= 500) return new GreenApiError('transient', `GetAvatar upstream error (HTTP ${status})`, status);
  return new GreenApiError('rejected', `GetAvatar unexpected HTTP ${status}`, status);
}

export function createGreenApiClient(instance: GreenApiInstance, http: AxiosInstance = outboundHttp()): GreenApiClient {
  const endpoint = `${instance.url}/waInstance${instance.idInstance}/getAvatar/${instance.apiToken}`;
  const secrets = [instance.apiToken];
  return {
    async getAvatar(chatId) {
      // axios's `timeout` stops counting once headers arrive; the signal bounds a trickled body too.
      const signal = AbortSignal.timeout(instance.timeoutMs);
      let response;
      try {
        response = await http.post(endpoint, { chatId }, {
          timeout: instance.timeoutMs,
          signal,
          maxContentLength: MAX_ANSWER_BYTES,
          validateStatus: () => true,
          maxRedirects: 0,
          headers: { 'Content-Type': 'application/json' },
        });
      } catch (err) {
        // Never rethrow the axios error: its config.url carries the token.
        if (signal.aborted) throw new GreenApiError('transient', `GetAvatar took longer than ${instance.timeoutMs} ms`);
        const code = (err as { code?: string }).code;
        if (code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test((err as Error).message)) {
          throw new GreenApiError('transient', `GetAvatar answer larger than ${MAX_ANSWER_BYTES} bytes`);
        }
        throw new GreenApiError('transient', `GetAvatar request failed (${code ?? 'network error'})`);
      }
      if (response.status !== 200) {
        const outcome = errorForStatus(response.status, response.headers, response.data, secrets);
        if (outcome instanceof GreenApiError) throw outcome;
        return outcome;
      }
      if (typeof response.data !== 'object' || response.data === null || Array.isArray(response.data)) {
        throw new GreenApiError('transient', 'GetAvatar answered a body that is not a JSON object', 200);
      }
      return interpretAnswer(response.data as GetAvatarBody, secrets);
    },
  };
}
