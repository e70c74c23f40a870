import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchesIfNoneMatch, notModifiedHeaders, type AvatarResponse } from './response';

/** Writes a prepared response: 304 when the client's copy is current, no body for HEAD. */
export function sendAvatar(req: IncomingMessage, res: ServerResponse, response: AvatarResponse): void {
  if (response.statusCode === 200 && matchesIfNoneMatch(req.headers['if-none-match'], response.etag)) {
    res.writeHead(304, notModifiedHeaders(response));
    res.end();
    return;
  }
  res.writeHead(response.statusCode, response.headers);
  res.end(req.method === 'HEAD' ? undefined : response.body);
}
