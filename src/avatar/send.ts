import type { IncomingMessage, ServerResponse } from 'node:http';
import { varyOrigin, type CorsPolicy } from '../http/cors';
import { mergeHeaders } from '../http/headers';
import { matchesIfNoneMatch, notModifiedHeaders, type AvatarResponse } from './response';

/** The response's own headers, plus CORS headers that depend on the request's Origin (CORS_ORIGINS lists). */
function headersFor(req: IncomingMessage, headers: Record<string, string>, cors: CorsPolicy): Record<string, string> {
  if (!cors.forRequest) return headers;
  return mergeHeaders(headers, cors.forRequest(req), { vary: varyOrigin(headers.vary) });
}

/** Writes a prepared response: 304 when the client's copy is current, no body for HEAD. */
export function sendAvatar(req: IncomingMessage, res: ServerResponse, response: AvatarResponse, cors: CorsPolicy): void {
  if (response.statusCode === 200 && matchesIfNoneMatch(req.headers['if-none-match'], response.etag)) {
    res.writeHead(304, headersFor(req, notModifiedHeaders(response), cors));
    res.end();
    return;
  }
  res.writeHead(response.statusCode, headersFor(req, response.headers, cors));
  res.end(req.method === 'HEAD' ? undefined : response.body);
}
