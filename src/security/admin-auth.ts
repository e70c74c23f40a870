import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { AppError } from '../errors';
import { secretMatcher } from './secret-match';

/**
 * Whether a request carries `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (digests of equal
 * length); never, with no ADMIN_TOKEN configured.
 */
export function isAdmin(adminToken: string | undefined): (req: IncomingMessage) => boolean {
  const matches = adminToken ? secretMatcher(adminToken) : undefined;
  return (req) => {
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    return matches !== undefined && given !== '' && matches(given);
  };
}

/**
 * Guards admin endpoints with `Authorization: Bearer <ADMIN_TOKEN>`. With no ADMIN_TOKEN configured the
 * endpoints do not exist (404), never open.
 */
export function adminOnly(adminToken: string | undefined): RequestHandler {
  const admin = isAdmin(adminToken);
  return (req, _res, next) => {
    if (!adminToken) return next(new AppError(404, 'not_found', 'no such route'));
    if (!admin(req)) {
      return next(new AppError(401, 'unauthorized', 'admin endpoints need Authorization: Bearer <ADMIN_TOKEN>', { 'WWW-Authenticate': 'Bearer' }));
    }
    next();
  };
}
