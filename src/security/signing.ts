import { timingSafeEqual } from 'node:crypto';
import { canonicalTarget, sign } from '../client';

/**
 * Signed avatar URLs (the scheme is specified in src/client.ts and docs/signed-urls-and-opaque-ids.md): without a valid signature
 * nobody can use the service as a free "is this number on WhatsApp?" oracle. Several keys verify (key
 * rotation: SIGNING_KEYS=new,old); an `exp` inside the signature makes a URL expire.
 */
export type SignatureCheck = 'valid' | 'invalid' | 'expired';

/** Checks the `sig` of a request in constant time against every key, then its expiry. */
export function checkSignature(keys: string[], file: string, rawQuery: string, nowSeconds: number): SignatureCheck {
  const params = new URLSearchParams(rawQuery);
  const given = params.getAll('sig');
  if (given.length !== 1) return 'invalid';
  const actual = Buffer.from(given[0]!);
  const target = canonicalTarget(file, params);
  const matches = keys.some((key) => {
    const expected = Buffer.from(sign(key, target));
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  });
  if (!matches) return 'invalid';
  const exp = params.getAll('exp');
  if (exp.length === 0) return 'valid';
  if (exp.length > 1 || !/^\d{1,12}$/.test(exp[0]!)) return 'invalid';
  return Number(exp[0]) < nowSeconds ? 'expired' : 'valid';
}
