import axios, { type AxiosInstance } from 'axios';
import { GreenApiError } from './errors';

export interface GreenApiInstance {
  url: string;
  idInstance: string;
  apiToken: string;
  timeoutMs: number;
}

/** GetAvatar's answer reduced to what the cache needs. `bad request data` is a permanent invalid-chatId answer. */
export type AvatarAnswer =
  | { kind: 'avatar'; url: string }
  | { kind: 'no-avatar' }
  | { kind: 'not-on-whatsapp' }
  | { kind: 'invalid-chat-id' };

export interface GreenApiClient {
  getAvatar(chatId: string): Promise<AvatarAnswer>;
}

interface GetAvatarBody {
  existsWhatsapp?: unknown;
  available?: unknown;
  urlAvatar?: unknown;
  reason?: unknown;
}

export function interpretAnswer(body: GetAvatarBody): AvatarAnswer {
  if (typeof body.reason === 'string' && body.reason !== '') {
    if (body.reason === 'bad request data') return { kind: 'invalid-chat-id' };
    throw new GreenApiError('transient', `GetAvatar answered reason "${body.reason.slice(0, 80)}"`, 200);
  }
  // The docs spell the flag `existsWhatsapp`; the official JS clients read `available`.
  const exists = typeof body.existsWhatsapp === 'boolean' ? body.existsWhatsapp : body.available;
  const url = typeof body.urlAvatar === 'string' ? body.urlAvatar : '';
  if (exists === false) return { kind: 'not-on-whatsapp' };
  if (url !== '') return { kind: 'avatar', url };
  if (exists === true) return { kind: 'no-avatar' };
  throw new GreenApiError('transient', 'GetAvatar answer has neither existsWhatsapp nor urlAvatar', 200);
}

function retryAfterMs(header: unknown): number | undefined {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function errorForStatus(status: number, headers: Record<string, unknown>, body: unknown): GreenApiError {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  const detail = text.slice(0, 120);
  if (status === 429) return new GreenApiError('rate-limited', 'GetAvatar rate limited (HTTP 429)', status, retryAfterMs(headers['retry-after']));
  if (status === 401) return new GreenApiError('unauthorized', 'GetAvatar refused the apiTokenInstance (HTTP 401)', status);
  if (status === 403) return new GreenApiError('unauthorized', 'GetAvatar refused the idInstance (HTTP 403)', status);
  if (status === 400) return new GreenApiError('unauthorized', `GetAvatar: instance not ready (HTTP 400: ${detail})`, status);
  if (status === 466) return new GreenApiError('quota', `GetAvatar: plan quota exceeded (HTTP 466: ${detail})`, status);
  if (status >= 500) return new GreenApiError('transient', `GetAvatar upstream error (HTTP ${status})`, status);
  return new GreenApiError('rejected', `GetAvatar unexpected HTTP ${status}`, status);
}

export function createGreenApiClient(instance: GreenApiInstance, http: AxiosInstance = axios.create()): GreenApiClient {
  const endpoint = `${instance.url}/waInstance${instance.idInstance}/getAvatar/${instance.apiToken}`;
  return {
    async getAvatar(chatId) {
      let response;
      try {
        response = await http.post(endpoint, { chatId }, {
          timeout: instance.timeoutMs,
          validateStatus: () => true,
          maxRedirects: 0,
          headers: { 'Content-Type': 'application/json' },
        });
      } catch (err) {
        // Never rethrow the axios error: its config.url carries the token.
        const code = (err as { code?: string }).code ?? 'network error';
        throw new GreenApiError('transient', `GetAvatar request failed (${code})`);
      }
      if (response.status !== 200) throw errorForStatus(response.status, response.headers, response.data);
      if (typeof response.data !== 'object' || response.data === null) {
        throw new GreenApiError('transient', 'GetAvatar answered a body that is not JSON', 200);
      }
      return interpretAnswer(response.data as GetAvatarBody);
    },
  };
}
