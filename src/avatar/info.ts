import { hash } from 'node:crypto';
import type { Clock } from '../clock';
import { avatarSrcSet, avatarUrl } from '../client';
import { placeholderColour, type Placeholders } from './placeholder';
import type { AvatarRequest } from './request';
import { answerCacheControl, cacheControl, commonHeaders, type AvatarResponse, type AvatarStatus, type CacheLimits } from './response';
import { avatarEtag } from './etag';
import type { Answer, AvatarService, ServeContext } from './service';
import type { AvatarStore } from './store';
import type { PublicIds } from '../ids/public-id';
import { FORMATS, urlExtension, type Format } from './variant';

/** `GET /avatar/:id.json`: what a web app needs to show an avatar well, read from what the workers stored. */
export interface AvatarInfoJson {
  /** The contact's chatId, or the opaque id the request named it by (never the number then). */
  chatId: string;
  status: AvatarStatus;
  /** The ETag the image at this size in the default format answers. */
  etag: string;
  /** When the answer last changed; null while there is none. */
  updatedAt: string | null;
  width: number;
  height: number;
  /** Dominant colour of the picture, or the placeholder's background. */
  color: string;
  /** Blur-up image (data URI, under 1 KB): from the ThumbHash, or the placeholder itself. */
  placeholder: string;
  thumbhash: string | null;
  urls: Record<ReturnType<typeof urlExtension>, string>;
  srcset: string;
}

export interface AvatarInfoOptions extends CacheLimits {
  defaultFormat: Format;
  signingKey?: string;
  /** How the URLs in the JSON name the contact (opaque ids with ID_KEYS). */
  ids: PublicIds;
  /** Headers every response carries (CORS for any origin). */
  staticHeaders: Record<string, string>;
}

export interface AvatarInfoDeps {
  avatars: AvatarService;
  store: AvatarStore;
  placeholders: Placeholders;
  clock: Clock;
  options: AvatarInfoOptions;
}

/** The placeholder's own tiny image: what a page shows for a contact without a picture. */
const PLACEHOLDER_PREVIEW_SIZE = 32;


export function createAvatarInfo({ avatars, store, placeholders, clock, options }: AvatarInfoDeps) {

  // The links carry the request's exp (or none): they expire with the JSON that hands them out.
  const imageUrl = (req: AvatarRequest, format: Format): string =>
    avatarUrl('', options.ids.urlId(req.chatId), { size: req.size, format: urlExtension(format), key: options.signingKey, exp: req.exp });


  async function describe(req: AvatarRequest, answer: Answer): Promise<AvatarInfoJson> {
    const meta = 'meta' in answer ? answer.meta : undefined;
    const status: AvatarStatus = meta ? meta.status : (answer as { missing: AvatarStatus }).missing;
    const info = meta?.status === 'ok' ? await store.getInfo(meta.hash) : undefined;
    const base = {
      chatId: req.opaqueId ?? req.chatId,
      status,
      updatedAt: meta ? new Date(meta.changedAt).toISOString() : null,
      width: req.size,
      height: req.size,
      urls: Object.fromEntries(FORMATS.map((f) => [urlExtension(f), imageUrl(req, f)])) as AvatarInfoJson['urls'],
      srcset: avatarSrcSet('', options.ids.urlId(req.chatId), { size: req.size, format: urlExtension(options.defaultFormat), key: options.signingKey, exp: req.exp }),
    };
    if (meta?.status === 'ok') {
      return {
        ...base,
        etag: avatarEtag(meta.hash, req.size, options.defaultFormat),
        color: info?.color ?? placeholderColour(req.chatId),
        placeholder: info?.placeholder ?? '',
        thumbhash: info?.thumbhash ?? null,
      };
    }
    const [image, preview] = await Promise.all([
      placeholders.get(req.chatId, req.size, options.defaultFormat),
      placeholders.get(req.chatId, PLACEHOLDER_PREVIEW_SIZE, 'png'),
    ]);
    return {
      ...base,
      etag: image.etag,
      color: placeholderColour(req.chatId),
      placeholder: `data:image/png;base64,${preview.body.toString('base64')}`,
      thumbhash: null,
    };
  }

  /** The JSON info as a ready response (with its own ETag, so If-None-Match gets a 304). */
  return async function info(req: AvatarRequest, context: ServeContext): Promise<AvatarResponse> {
    const answer = await avatars.answer(req, context);
    const json = await describe(req, answer);
    const body = Buffer.from(JSON.stringify(json));
    const etag = `"j${hash('sha256', body, 'base64url').slice(0, 27)}"`;
    const limited = 'missing' in answer && answer.missing === 'rate-limited';
    // As the image's: never kept while there is no answer.
    const control = 'meta' in answer ? answerCacheControl(answer.meta, clock(), options, req.exp) : cacheControl(0);
    const headers = commonHeaders(req, json.status, answer.cache, control, options.staticHeaders);
    headers['content-type'] = 'application/json; charset=utf-8';
    headers['content-length'] = String(body.length);
    headers['etag'] = etag;
    if (limited) headers['retry-after'] = String((answer as { retryAfter: number }).retryAfter);
    return { statusCode: limited ? 429 : 200, body, etag, headers };
  };
}

export type AvatarInfo = ReturnType<typeof createAvatarInfo>;
