/**
 * Why a GetAvatar call gave no answer. Messages never contain the request URL or upstream text that could
 * echo it (the URL holds the token): see scrub.
 *  - transient:    5xx, network errors, timeouts, WhatsApp-side `reason`s; retry with backoff
 *  - rate-limited: HTTP 429; pause calls to the instance, then retry
 *  - unauthorized: 401 wrong token, 403 wrong idInstance, 400 instance not authorized / starting
 *  - quota:        466 plan quota exceeded
 *  - rejected:     any other answer we do not understand; not retried blindly
 */
export type GreenApiErrorKind = 'transient' | 'rate-limited' | 'unauthorized' | 'quota' | 'rejected';

/** One limit of a 466 body (`invokeStatus` or `correspondentsStatus`); Green API sends the numbers as strings. */
export interface QuotaLimit {
  method: string;
  used?: number;
  total?: number;
  status: string;
  description: string;
}

/** What a 466 said about the plan's limits. */
export interface QuotaReport {
  invoke?: QuotaLimit;
  correspondents?: QuotaLimit;
}

export class GreenApiError extends Error {
  override name = 'GreenApiError';
  constructor(
    readonly kind: GreenApiErrorKind,
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
    readonly quota?: QuotaReport,
  ) {
    super(message);
  }
}
