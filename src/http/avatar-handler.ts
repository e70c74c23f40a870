import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Histogram } from 'prom-client';
import type { AvatarInfo } from '../avatar/info';
import { isInfoFile, parseAvatarRequest, parseInfoRequest, type AvatarRequest } from '../avatar/request';
import type { AvatarResponse } from '../avatar/response';
import { sendAvatar } from '../avatar/send';
import type { AvatarService } from '../avatar/service';
import { negotiateFormat, type Format } from '../avatar/variant';
import type { Clock } from '../clock';
import { AppError, errorBody } from '../errors';
import type { PublicIds } from '../ids/public-id';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { checkSignature } from '../security/signing';
import { mergeHeaders } from './headers';
import { varyOrigin, type CorsPolicy } from './cors';
import { requestIdOf } from './request-id';
import { countServed } from './served';

export const AVATAR_PATH = '/avatar/';
/** The route label of every avatar request in metrics (one segment after /avatar/). */
const ROUTE = '/avatar/:file';
const ALLOW = 'GET, HEAD, OPTIONS';

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

export interface AvatarHandlerOptions {
  defaultSize: number;
  defaultFormat: Format;
  /** When set, every avatar URL needs a valid `sig` made with one of them. */
  signingKeys?: string[];
  cors: CorsPolicy;
  ids: PublicIds;
  /** What signature expiry (`exp`) is compared with. */
  clock: Clock;
  /** The client's identity for budgets (TRUST_PROXY applied). */
  clientIp(req: IncomingMessage): string;
}

export interface AvatarHandlerDeps {
  avatars: AvatarService;
  info: AvatarInfo;
  metrics: Metrics;
  logger: Logger;
  options: AvatarHandlerOptions;
}

/** What a request asks for, parsed and verified once: an image, or the JSON info. */
type Parsed = { kind: 'image'; request: AvatarRequest; cacheKey: string } | { kind: 'info'; request: AvatarRequest };

/**
 * Every `/avatar/*` request, in one plain `http` handler (Express keeps admin, warm, health, metrics, docs and the
 * demo page): memory (no parsing at all: the URL is the key) -> parse and verify, once -> read Redis, once ->
 * the service admits and ensures what is missing -> respond, or answer the error. Hits are nearly all traffic,
 * and Express's per-request machinery costs most of this machine's throughput.
 */
export function createAvatarHandler({ avatars, info, metrics, logger, options }: AvatarHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { cors } = options;
  // Labelled children looked up once: prom-client hashes a label object on every call otherwise.
  const hits = metrics.avatarLookups.labels({ result: 'hit' });
  const durations = new Map<string, Histogram.Internal<'route' | 'status' | 'cache'>>();
  const observe = (route: string, status: number, cache: string, started: number) => {
    const key = `${route} ${status} ${cache}`;
    let child = durations.get(key);
    if (!child) durations.set(key, (child = metrics.httpDuration.labels({ route, status: String(status), cache })));
    child.observe((performance.now() - started) / 1000);
  };

  /** A prepared response, sent and counted. */
  function respond(req: IncomingMessage, res: ServerResponse, response: AvatarResponse, id: string): void {
    sendAvatar(req, res, response, cors, { 'x-request-id': id });
    countServed(metrics, response);
  }

  /** A memory hit: no log line (hits are nearly all traffic), counted and timed. */
  function sendHit(req: IncomingMessage, res: ServerResponse, response: AvatarResponse, started: number): void {
    respond(req, res, response, requestIdOf(req));
    hits.inc();
    observe(ROUTE, res.statusCode, 'HIT', started);
  }

  /** The headers every error of an avatar URL carries: never cached, readable cross-origin, with the request id. */
  function errorHeaders(req: IncomingMessage, id: string, extra: Record<string, string>): Record<string, string> {
    const base = { 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8', 'x-request-id': id };
    if (!cors.forRequest) return mergeHeaders(cors.always, base, extra);
    return mergeHeaders(cors.always, cors.forRequest(req), { vary: varyOrigin(undefined) }, base, extra);
  }

  function sendError(req: IncomingMessage, res: ServerResponse, id: string, err: AppError): void {
    const body = Buffer.from(JSON.stringify(errorBody(err.code, err.message)));
    res.writeHead(err.statusCode, errorHeaders(req, id, { ...err.headers, 'content-length': String(body.length) }));
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** The file named by the path (`<id>.<format>`, `<id>` or `<id>.json`), decoded; undefined for more than one segment. */
  function fileOf(path: string): string | undefined {
    // One trailing slash is the same URL, as Express's non-strict routing has it.
    const raw = path.slice(AVATAR_PATH.length).replace(/\/$/, '');
    if (raw === '' || raw.includes('/')) return undefined;
    try {
      return decodeURIComponent(raw);
    } catch {
      throw new AppError(400, 'bad_request', 'malformed request');
    }
  }

  /** Parse and verify, once: the signature before anything else, so an unsigned URL learns nothing. */
  function parse(url: string, file: string, query: string, accept: string | undefined): Parsed {
    const signature = options.signingKeys ? checkSignature(options.signingKeys, file, query, options.clock() / 1000) : 'valid';
    if (signature === 'invalid') throw new AppError(403, 'invalid_signature', 'this URL needs a valid sig parameter');
    if (signature === 'expired') throw new AppError(403, 'expired_signature', 'this signed URL has expired (exp)');
    if (isInfoFile(file)) return { kind: 'info', request: parseInfoRequest(file, query, options.defaultSize, options.defaultFormat, options.ids) };
    const request = parseAvatarRequest(file, query, accept, options.defaultSize, options.ids);
    return { kind: 'image', request, cacheKey: responseCacheKey(url, request) };
  }

  /** Everything but a memory hit: parsed, read once, ensured by the service, answered; one log line at the end. */
  async function handle(req: IncomingMessage, res: ServerResponse, url: string, started: number): Promise<void> {
    const id = requestIdOf(req);
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let route = ROUTE;
    let cache = '';
    // A hit read from Redis logs nothing: the request's logger is made for the requests that may.
    let requestLog: Logger | undefined;
    const log = () => (requestLog ??= logger.child({ req: { id, method: req.method, url } }));
    const send = (response: AvatarResponse) => {
      respond(req, res, response, id);
      cache = response.headers['x-cache'] ?? '';
    };
    try {
      const file = fileOf(path);
      if (file === undefined) {
        route = 'unmatched';
        throw new AppError(404, 'not_found', 'no such route');
      }
      if (req.method === 'OPTIONS') {
        // CORS preflight: what a cross-origin fetch() asks before a GET with its own headers.
        res.writeHead(204, mergeHeaders(cors.preflight(req), { allow: ALLOW, 'x-request-id': id }));
        res.end();
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new AppError(405, 'method_not_allowed', 'use GET or HEAD', { Allow: ALLOW });
      const parsed = parse(url, file, q < 0 ? '' : url.slice(q + 1), req.headers.accept);
      if (parsed.kind === 'info') return send(await info(parsed.request, { clientIp: options.clientIp(req), cacheKey: '', log: log() }));
      const { request, cacheKey } = parsed;
      // One Redis read: a fresh answer with its variant is a hit; anything else goes on with what was read.
      let stored: Awaited<ReturnType<AvatarService['stored']>> | undefined;
      let failure: Error | undefined;
      try {
        stored = await avatars.stored(request, cacheKey);
      } catch (err) {
        if (err instanceof AppError) throw err;
        // Redis failed once: answered without asking it again (one command timeout, not two).
        failure = err as Error;
      }
      if (stored && 'response' in stored) {
        hits.inc();
        return send(stored.response);
      }
      send(await avatars.serve(request, { clientIp: options.clientIp(req), cacheKey, log: log(), read: stored?.read, failure }));
    } catch (err) {
      if (!(err instanceof AppError)) log().error({ method: req.method, path, err: (err as Error).message }, 'unhandled error');
      sendError(req, res, id, err instanceof AppError ? err : new AppError(500, 'internal_error', 'internal error'));
    } finally {
      observe(route, res.statusCode, cache, started);
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : cache === 'HIT' || res.statusCode === 304 ? undefined : 'info';
      if (level) log()[level]({ res: { statusCode: res.statusCode }, responseTime: Math.round(performance.now() - started) }, 'request completed');
    }
  }

  return (req, res) => {
    const started = performance.now();
    const url = req.url ?? '';
    if (req.method === 'GET' || req.method === 'HEAD') {
      const hit = avatars.cached(url) ?? avatars.cached(negotiatedKey(url, negotiateFormat(req.headers.accept)));
      if (hit) return sendHit(req, res, hit, started);
    }
    void handle(req, res, url, started);
  };
}
