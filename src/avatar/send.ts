import type { IncomingMessage, ServerResponse } from 'node:http';
import { varyOrigin, type CorsPolicy } from '../http/cors';
import { mergeHeaders } from '../http/headers';
import { errorBody } from '../errors';
import { matchesIfMatch, matchesIfNoneMatch, notModifiedHeaders, type AvatarResponse } from './response';

const PRECONDITION_FAILED = Buffer.from(JSON.stringify(errorBody('precondition_failed', 'If-Match names no current ETag of this resource')));

/**
 * The response's own headers, plus `extra` ones (the fast path's X-Request-Id) and the CORS headers that
 * depend on the request's Origin (CORS_ORIGINS lists). All go to writeHead in one object: a header set
 * before with setHeader sends Node's writeHead through setHeader for every header (~3 µs per hit).
 */
function headersFor(req: IncomingMessage, headers: Record<string, string>, cors: CorsPolicy, extra?: Record<string, string>): Record<string, string> {
  if (!cors.forRequest) return extra ? mergeHeaders(headers, extra) : headers;
  return mergeHeaders(headers, extra ?? {}, cors.forRequest(req), { vary: varyOrigin(headers.vary) });
}

/** Writes a prepared response: 412 when If-Match fails, 304 when the client's copy is current, no body for HEAD. */
export function sendAvatar(req: IncomingMessage, res: ServerResponse, response: AvatarResponse, cors: CorsPolicy, extra?: Record<string, string>): void {
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined && !(response.statusCode === 200 && matchesIfMatch(ifMatch, response.etag))) {
    const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(PRECONDITION_FAILED.length), 'cache-control': 'no-store' };
    res.writeHead(412, headersFor(req, mergeHeaders(response.headers, headers), cors, extra));
    res.end(req.method === 'HEAD' ? undefined : PRECONDITION_FAILED);
    return;
  }
  if (response.statusCode === 200 && matchesIfNoneMatch(req.headers['if-none-match'], response.etag)) {
    res.writeHead(304, headersFor(req, notModifiedHeaders(response), cors, extra));
    res.end();
    return;
  }
  res.writeHead(response.statusCode, headersFor(req, response.headers, cors, extra));
  res.end(req.method === 'HEAD' ? undefined : response.body);
}
