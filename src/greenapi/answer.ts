import { GreenApiError } from './errors';
import { scrub } from './scrub';

/**
 * GetAvatar's answer reduced to what the cache needs:
 *  - avatar:          a non-empty urlAvatar, whatever flags come with it
 *  - no-avatar:       on WhatsApp without a picture (`existsWhatsapp: true` / `available: true` / `{"urlAvatar": ""}`)
 *  - hidden:          `available: false` with no urlAvatar: privacy settings hide the picture from this instance
 *  - not-on-whatsapp: `existsWhatsapp: false`, the only proof that a number is not on WhatsApp
 *  - invalid-chat-id: `bad request data`, or Green API's own validation refusing the chatId
 */
export type AvatarReply =
  | { kind: 'avatar'; url: string }
  | { kind: 'no-avatar' }
  | { kind: 'hidden' }
  | { kind: 'not-on-whatsapp' }
  | { kind: 'invalid-chat-id' };

/** The three generations of the documented body: `{existsWhatsapp, urlAvatar}`, `{urlAvatar}`, `{urlAvatar, available}`. */
export interface GetAvatarBody {
  existsWhatsapp?: unknown;
  available?: unknown;
  urlAvatar?: unknown;
  reason?: unknown;
}

const flag = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined);

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Unknown extra fields are ignored; `secrets` are scrubbed from any upstream text kept in an error. */
export function interpretAnswer(body: GetAvatarBody, secrets: string[] = []): AvatarReply {
  if (typeof body.reason === 'string' && body.reason !== '') {
    if (body.reason === 'bad request data') return { kind: 'invalid-chat-id' };
    throw new GreenApiError('transient', `GetAvatar answered reason "${scrub(body.reason, secrets)}"`, 200);
  }
  const exists = flag(body.existsWhatsapp);
  const available = flag(body.available);
  const url = body.urlAvatar;
  if (typeof url === 'string' && url !== '') {
    // No URL holds control characters: an answer that has them is malformed.
    if (CONTROL_CHARACTER.test(url)) throw new GreenApiError('transient', 'GetAvatar answer has a urlAvatar with control characters', 200);
    return { kind: 'avatar', url };
  }
  if (exists === false) return { kind: 'not-on-whatsapp' };
  if (available === false) return { kind: 'hidden' };
  // An empty urlAvatar is an answer (the current docs' "no avatar set"); a urlAvatar of another type is not.
  if (exists === true || available === true || url === '') return { kind: 'no-avatar' };
  const detail = url === undefined ? 'has none of urlAvatar, existsWhatsapp, available' : 'has a urlAvatar that is not a string';
  throw new GreenApiError('transient', `GetAvatar answer ${detail}`, 200);
}
