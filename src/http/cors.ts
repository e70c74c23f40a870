import type { IncomingMessage } from 'node:http';

/** Headers a page's scripts may read on a cross-origin response (fetch(), <img crossorigin> on a canvas). */
const EXPOSED = 'ETag, X-Avatar-Status, X-Cache, X-Request-Id, Retry-After';

/**
 * Cross-origin access to images and JSON. `*` (the default): the same headers on every response, prepared
 * with it. A list (CORS_ORIGINS): the request's Origin is echoed when listed, with `Vary: Origin`.
 */
export interface CorsPolicy {
  /** Headers every response carries, whoever asks (kept with cached responses). */
  always: Record<string, string>;
  /** Headers that depend on the request's Origin; undefined when none do. */
  forRequest?(req: IncomingMessage): Record<string, string>;
  /** The answer to a preflight (OPTIONS) for this request. */
  preflight(req: IncomingMessage): Record<string, string>;
}

export function createCors(origins: string[]): CorsPolicy {
  const preflightHeaders = {
    'access-control-allow-methods': 'GET, HEAD, OPTIONS',
    'access-control-allow-headers': 'If-None-Match, X-Request-Id, Authorization, Content-Type',
    'access-control-max-age': '86400',
  };
  if (origins.length === 0 || origins.includes('*')) {
    const always = { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED, 'timing-allow-origin': '*' };
    return { always, preflight: () => ({ ...always, ...preflightHeaders }) };
  }
  const allowed = new Set(origins);
  const forRequest = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    if (!origin || !allowed.has(origin)) return {};
    return { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED, 'timing-allow-origin': origin };
  };
  return {
    always: {},
    forRequest,
    preflight: (req) => {
      const headers = forRequest(req);
      return headers['access-control-allow-origin'] ? { ...headers, ...preflightHeaders, vary: 'Origin' } : { vary: 'Origin' };
    },
  };
}

/** Adds `Origin` to a response's Vary (when CORS depends on it). */
export function varyOrigin(vary: string | undefined): string {
  return vary ? `${vary}, Origin` : 'Origin';
}
