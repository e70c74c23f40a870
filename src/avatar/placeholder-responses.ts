import { AppError } from '../errors';
import { mergeHeaders } from '../http/headers';
import type { BudgetKind, WorkBudget } from './admission';
import { SILHOUETTE, type Placeholders } from './placeholder';
import type { AvatarRequest } from './request';
import { cacheControl, imageResponse, notFoundResponse, type AvatarResponse, type AvatarStatus, type CacheState } from './response';

/** The responses shown when there is no picture to show: which placeholder, how long it may be kept, its budget. */
export interface PlaceholderResponses {
  /** Whether the request's placeholder would be drawn now (initials not drawn yet: work with a budget). */
  wouldDraw(req: AvatarRequest): boolean;
  /**
   * The placeholder image for a request. Initials not drawn yet are a render: counted against the client's
   * render budget (refused: 429 with the silhouette, nothing drawn); with no client to count (`clientIp`
   * undefined: Redis is down), the silhouette.
   */
  placeholder(req: AvatarRequest, status: AvatarStatus, cache: CacheState, control: string, clientIp: string | undefined): Promise<AvatarResponse>;
  /** Nothing to show yet: a placeholder browsers must not keep. */
  unresolved(req: AvatarRequest, missing: 'pending' | 'error', cache: CacheState, clientIp: string | undefined): Promise<AvatarResponse>;
  /** 429 for a client that causes too much work; the body is still an image for an <img> (never a new draw). */
  rateLimited(req: AvatarRequest, kind: BudgetKind, retryAfter: number): Promise<AvatarResponse>;
}

export function createPlaceholderResponses(placeholders: Placeholders, renderBudget: WorkBudget, staticHeaders: Record<string, string>): PlaceholderResponses {
  const wouldDraw = (req: AvatarRequest) => placeholders.wouldDraw(req.chatId, req.size, req.format, req.placeholder);
  /** The request with the silhouette for its placeholder: what is shown when its initials may not be drawn. */
  const silhouetted = (req: AvatarRequest): AvatarRequest => ({ ...req, placeholder: SILHOUETTE });

  async function rateLimited(req: AvatarRequest, kind: BudgetKind, retryAfter: number): Promise<AvatarResponse> {
    const headers = { 'Retry-After': String(retryAfter) };
    const what = kind === 'miss' ? 'uncached avatars' : 'new sizes, formats or initials';
    if (req.fallback404) throw new AppError(429, 'rate_limited', `too many ${what} requested; retry later`, headers);
    const shown = wouldDraw(req) ? silhouetted(req) : req;
    const image = await placeholders.get(shown.chatId, shown.size, shown.format, shown.placeholder);
    const response = imageResponse(req, image.body, image.etag, 'rate-limited', 'MISS', cacheControl(0), staticHeaders);
    return { ...response, statusCode: 429, headers: mergeHeaders(response.headers, { 'retry-after': String(retryAfter) }) };
  }

  async function placeholder(req: AvatarRequest, status: AvatarStatus, cache: CacheState, control: string, clientIp: string | undefined): Promise<AvatarResponse> {
    if (req.fallback404) return notFoundResponse(req, status, cache, control, staticHeaders);
    let shown = req;
    if (wouldDraw(req)) {
      if (clientIp === undefined) shown = silhouetted(req);
      else {
        const retryAfter = await renderBudget.take(clientIp);
        if (retryAfter > 0) return rateLimited(req, 'render', retryAfter);
      }
    }
    const image = await placeholders.get(shown.chatId, shown.size, shown.format, shown.placeholder);
    return imageResponse(req, image.body, image.etag, status, cache, control, staticHeaders);
  }

  return {
    wouldDraw,
    placeholder,
    unresolved: (req, missing, cache, clientIp) => placeholder(req, missing, cache, cacheControl(0), clientIp),
    rateLimited,
  };
}
