import { badRequest } from '../errors';
import { canDrawLetters, SILHOUETTE, type PlaceholderStyle } from './placeholder';
import { CHAT_ID_RULE } from './chat-id';
import { requirePublicId, type PublicIds } from '../ids/public-id';
import { isOpaqueId } from '../ids/opaque-id';
import { MAX_SIZE, negotiateFormat, parseFormat, snapSize, type Format } from './variant';

/** A validated avatar request: everything needed to find or make the image. */
export interface AvatarRequest {
  chatId: string;
  /** The opaque id the URL named the contact by: responses and logs show it, never the chatId. */
  opaqueId?: string;
  size: number;
  format: Format;
  /** The format came from Accept, so the response must say `Vary: Accept`. */
  negotiated: boolean;
  /** `?fallback=404` or `?d=404`: answer 404 rather than a placeholder. */
  fallback404: boolean;
  /** `?d=`: what to draw when there is no picture to show. */
  placeholder: PlaceholderStyle;
  /** `?exp=` (Unix seconds) of a signed URL: nothing made for the request outlives it. */
  exp?: number;
}

/** `sig` is checked (when signing is on) before parsing; see security/signing. */
const QUERY_PARAMS = new Set(['size', 'fallback', 'sig', 'exp', 'd', 'name', 'initials']);
const MAX_NAME_LENGTH = 64;
export const PLACEHOLDER_CHOICES = ['mp', 'initials', 'blank', '404'] as const;

/** Letters (any script) and digits, one grapheme at a time. */
const graphemes = (s: string) => [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s)].map((g) => g.segment);
const isLetter = (g: string) => /^[\p{L}\p{N}]/u.test(g);
/** Marks a letter may carry when drawn (a letter with a dozen stacked accents is not an initial). */
const MAX_MARKS = 2;
const trimMarks = (g: string) => {
  let marks = 0;
  return [...g].filter((c) => !/\p{M}/u.test(c) || ++marks <= MAX_MARKS).join('');
};

/**
 * Up to two letters: `initials=` as given, or the first letters of the first and last words of `name=`;
 * counted after case mapping (`ßß` is `SS`, not `SSSS`), each with at most two combining marks.
 */
export function initialsOf(name: string | undefined, initials: string | undefined): string {
  let letters: string[];
  if (initials !== undefined) {
    letters = graphemes(initials).filter(isLetter);
  } else {
    const words = (name ?? '').split(/[\s\p{P}\p{S}]+/u).filter((w) => w && isLetter(graphemes(w)[0]!));
    const firsts = words.map((w) => graphemes(w)[0]!);
    letters = firsts.length > 1 ? [firsts[0]!, firsts[firsts.length - 1]!] : firsts;
  }
  return graphemes(letters.slice(0, 2).join('').toUpperCase()).slice(0, 2).map(trimMarks).join('');
}

function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw badRequest('invalid_query', `${name} may be given once`);
  return values[0];
}

/** `?d=mp|initials|blank|404` with `name=` or `initials=` for initials (the silhouette when they give no letter). */
function parsePlaceholder(params: URLSearchParams): { style: PlaceholderStyle; notFound: boolean } {
  const d = single(params, 'd') ?? 'mp';
  if (!(PLACEHOLDER_CHOICES as readonly string[]).includes(d)) throw badRequest('invalid_placeholder', 'd must be mp, initials, blank or 404');
  const name = single(params, 'name');
  const initials = single(params, 'initials');
  if (d !== 'initials' && (name !== undefined || initials !== undefined)) {
    throw badRequest('invalid_query', 'name and initials go with d=initials');
  }
  if ((name?.length ?? 0) > MAX_NAME_LENGTH || (initials?.length ?? 0) > MAX_NAME_LENGTH) {
    throw badRequest('invalid_name', `name and initials are at most ${MAX_NAME_LENGTH} characters`);
  }
  if (d === 'blank') return { style: { kind: 'blank' }, notFound: false };
  if (d === '404') return { style: SILHOUETTE, notFound: true };
  const letters = d === 'initials' ? initialsOf(name, initials) : '';
  // Letters the shipped font has no glyphs for would be boxes: the silhouette instead.
  return { style: letters && canDrawLetters(letters) ? { kind: 'initials', letters } : SILHOUETTE, notFound: false };
}
const INFO_QUERY_PARAMS = new Set(['size', 'sig', 'exp']);

/** `/avatar/<id>.json`: the JSON info of an avatar rather than the image. */
export const isInfoFile = (file: string): boolean => file.endsWith('.json');

/** `exp`, as the signature check read it (a malformed one never passes it); undefined without one. */
function parseExp(params: URLSearchParams): number | undefined {
  const exp = params.getAll('exp');
  if (exp.length > 1 || (exp.length === 1 && !/^\d{1,12}$/.test(exp[0]!))) throw badRequest('invalid_query', 'exp must be one whole number of Unix seconds');
  return exp.length === 1 ? Number(exp[0]) : undefined;
}

function checkParams(params: URLSearchParams, allowed: Set<string>): void {
  for (const name of params.keys()) {
    if (!allowed.has(name)) throw badRequest('invalid_query', `unknown query parameter "${name.slice(0, 32)}"`);
  }
}

/** Most avatar URLs have no query: one empty, never changed, instance for all of them. */
const NO_PARAMS: Readonly<URLSearchParams> = new URLSearchParams();
const queryParams = (query: string): Readonly<URLSearchParams> => (query === '' ? NO_PARAMS : new URLSearchParams(query));

type SplitFile = { chatId: string; opaqueId?: string; format: Format; negotiated: boolean };

/** The chatId an id names, with the opaque id when the URL used one. */
function contact(ids: PublicIds, id: string): { chatId: string; opaqueId?: string } {
  const chatId = requirePublicId(ids, id);
  return isOpaqueId(id) ? { chatId, opaqueId: id } : { chatId };
}

function splitFile(file: string, accept: string | undefined, ids: PublicIds): SplitFile {
  const dot = file.lastIndexOf('.');
  const ext = dot > 0 ? file.slice(dot + 1) : '';
  const format = parseFormat(ext);
  if (format) {
    // Built field by field, not spread: every request not served from memory passes here.
    const { chatId, opaqueId } = contact(ids, file.slice(0, dot));
    return { chatId, opaqueId, format, negotiated: false };
  }
  // A trailing ".xyz" is a format only when it is one we serve: "11001234567@c.us" is an id. An opaque token has no dot.
  const whole = isOpaqueId(file) ? undefined : ids.read(file);
  if (whole) return { chatId: whole, format: negotiateFormat(accept), negotiated: true };
  if (dot < 0) return { ...contact(ids, file), format: negotiateFormat(accept), negotiated: true };
  if (isOpaqueId(file) || ids.read(file.slice(0, dot))) {
    throw badRequest('invalid_format', `format "${ext.slice(0, 16)}" is not one of webp, avif, png, jpg, jpeg`);
  }
  throw badRequest('invalid_chat_id', CHAT_ID_RULE);
}

function parseSize(values: string[], defaultSize: number): number {
  if (values.length === 0) return defaultSize;
  const raw = values[0]!;
  if (values.length > 1 || !/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_SIZE) {
    throw badRequest('invalid_size', `size must be one integer from 1 to ${MAX_SIZE}`);
  }
  return snapSize(Number(raw));
}

/**
 * Parses `/avatar/<file>` where file is `<id>.<format>` or `<id>`, and its query string.
 * `file` is the decoded path segment; `query` the raw query string without `?`.
 */
export function parseAvatarRequest(file: string, query: string, accept: string | undefined, defaultSize: number, ids: PublicIds): AvatarRequest {
  const { chatId, opaqueId, format, negotiated } = splitFile(file, accept, ids);
  const params = queryParams(query);
  checkParams(params, QUERY_PARAMS);
  const size = parseSize(params.getAll('size'), defaultSize);
  const fallback = params.getAll('fallback');
  if (fallback.length > 1 || (fallback.length === 1 && fallback[0] !== '404')) {
    throw badRequest('invalid_fallback', 'fallback must be 404');
  }
  const { style, notFound } = parsePlaceholder(params);
  return { chatId, opaqueId, size, format, negotiated, fallback404: fallback.length === 1 || notFound, placeholder: style, exp: parseExp(params) };
}

/**
 * Parses `/avatar/<id>.json?size=N`. The request stands for the image of that size in the default format,
 * whose ETag and URLs the JSON describes.
 */
export function parseInfoRequest(file: string, query: string, defaultSize: number, defaultFormat: Format, ids: PublicIds): AvatarRequest {
  const named = contact(ids, file.slice(0, -'.json'.length));
  const params = queryParams(query);
  checkParams(params, INFO_QUERY_PARAMS);
  return { ...named, size: parseSize(params.getAll('size'), defaultSize), format: defaultFormat, negotiated: false, fallback404: false, placeholder: SILHOUETTE, exp: parseExp(params) };
}
