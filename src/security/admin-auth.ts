import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Guards admin endpoints with `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (digests of
 * equal length). With no ADMIN_TOKEN configured the endpoints do not exist (404), never open.
 */
export function adminOnly(adminToken: string | undefined): RequestHandler {
  const expected = adminToken ? digest(adminToken) : undefined;
  return (req, _res, next) => {
    if (!expected) return next(new AppError(404, 'not_found', 'no such route'));
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!given || !timingSafeEqual(digest(given), expected)) {
      return next(new AppError(401, 'unauthorized', 'admin endpoints need Authorization: Bearer <ADMIN_TOKEN>', { 'WWW-Authenticate': 'Bearer' }));
    }
    next();
  };
}
