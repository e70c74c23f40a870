import { isIP } from 'node:net';
import type { Request } from 'express';

/**
 * The client's address for per-client limits: Express's `req.ip` (which follows `trust proxy`), unless what a
 * proxy header put there is not an IP address; then the connection's own address. A client cannot so pick
 * an identity of its own by sending garbage in X-Forwarded-For.
 */
export function clientIp(req: Request): string {
  const ip = req.ip;
  if (ip && isIP(ip)) return ip;
  return req.socket.remoteAddress ?? '';
}
