import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Histogram } from 'prom-client';
import { parseAvatarRequest, type AvatarRequest } from '../avatar/request';
import type { AvatarResponse } from '../avatar/response';
import type { AvatarRead } from '../avatar/store';
import { sendAvatar } from '../avatar/send';
import type { AvatarService } from '../avatar/service';
import { negotiateFormat } from '../avatar/variant';
import type { Metrics } from '../metrics';
import { checkSignature } from '../security/signing';
import type { PublicIds } from '../ids/public-id';
import type { Clock } from '../clock';
import type { CorsPolicy } from './cors';
import { requestIdOf } from './request-id';
import { countServed } from './served';

/**
 * The key under which a ready response is kept in memory: the request URL exactly as received (so a hit
 * needs no parsing, and a signed URL is only ever served after it was verified once), plus the negotiated
 * format when the URL has no extension.
 */
export function responseCacheKey(url: string, request: AvatarRequest): string {
  // An expiring signed URL is never answered from memory (which skips the signature check): no key, no entry.
  // Decided on the parsed query, so no spelling of `exp` (`%65xp=`) escapes it.
  if (request.exp !== undefined) return '';
  return request.negotiated ? negotiatedKey(url, request.format) : url;
}

/** The key of a response whose format came from Accept: one per format under the same URL. */
const negotiatedKey = (url: string, format: string) => `${url}\n${format}`;

export interface FastPathOptions {
  defaultSize: number;
  signingKeys?: string[];
  cors: CorsPolicy;
  ids: PublicIds;
  /** What signature expiry (`exp`) is compared with. */
  clock: Clock;
}

const PREFIX = '/avatar/';

/** What the fast path already did for a request it hands on to Express: parsed and verified it, read Redis (or failed to). */
export interface Prefetched {
  request: AvatarRequest;
  cacheKey: string;
  read?: AvatarRead;
  failure?: Error;
}

const prefetched = new WeakMap<IncomingMessage, Prefetched>();

/** The fast path's work on this request, if any (taken once), so Express neither parses nor reads again. */
export function takePrefetched(req: IncomingMessage): Prefetched | undefined {
  const work = prefetched.get(req);
  prefetched.delete(req);
  return work;
}

/** The avatar request in a URL, when it is valid (and signed, if signing is on); else Express answers it. */
function parse(url: string, accept: string | undefined, { defaultSize, signingKeys, ids, clock }: FastPathOptions): AvatarRequest | undefined {
  const q = url.indexOf('?');
  const raw = url.slice(PREFIX.length, q < 0 ? undefined : q);
  const query = q < 0 ? '' : url.slice(q + 1);
  try {
    const file = decodeURIComponent(raw);
    if (file.includes('/') || (signingKeys && checkSignature(signingKeys, file, query, clock() / 1000) !== 'valid')) return undefined;
    return parseAvatarRequest(file, query, accept, defaultSize, ids);
  } catch {
    return undefined;
  }
}

/**
 * A plain `http` handler in front of the Express app. It answers cached avatars itself: from this process's
 * memory with no parsing at all (headers were prepared when the response was cached), or with one Redis
 * round trip. Misses, bad input and everything else go to Express. Express's per-request machinery costs
 * most of this machine's throughput, and hits are nearly all traffic.
 */
export function createFastPath(avatars: AvatarService, app: RequestListener, metrics: Metrics, options: FastPathOptions): RequestListener {
  // Labelled children looked up once: prom-client hashes a label object on every call otherwise.
  const hits = metrics.avatarLookups.labels({ result: 'hit' });
  const durations = new Map<number, Histogram.Internal<'route' | 'status' | 'cache'>>();
  const durationFor = (status: number) => {
    let child = durations.get(status);
    if (!child) durations.set(status, (child = metrics.httpDuration.labels({ route: '/avatar/:file', status: String(status), cache: 'HIT' })));
    return child;
  };

  function answer(req: IncomingMessage, res: ServerResponse, response: AvatarResponse, started: number): void {
    sendAvatar(req, res, response, options.cors, { 'x-request-id': requestIdOf(req) });
    countServed(metrics, response);
    hits.inc();
    durationFor(res.statusCode).observe((performance.now() - started) / 1000);
  }

  return (req, res) => {
    const url = req.url ?? '';
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !url.startsWith(PREFIX)) return app(req, res);
    const started = performance.now();
    const hit = avatars.cached(url) ?? avatars.cached(negotiatedKey(url, negotiateFormat(req.headers.accept)));
    if (hit) return answer(req, res, hit, started);

    const request = parse(url, req.headers.accept, options);
    if (!request) return app(req, res);
    const cacheKey = responseCacheKey(url, request);
    avatars.stored(request, cacheKey).then(
      (stored) => {
        if ('response' in stored) return answer(req, res, stored.response, started);
        prefetched.set(req, { request, cacheKey, read: stored.read });
        app(req, res);
      },
      // Redis failed once: Express answers without asking it again (one command timeout, not two).
      (failure: Error) => {
        prefetched.set(req, { request, cacheKey, failure });
        app(req, res);
      },
    );
  };
}
