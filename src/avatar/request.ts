import { badRequest } from '../errors';
import { CHAT_ID_RULE, parseChatId } from './chat-id';
import { MAX_SIZE, negotiateFormat, parseFormat, snapSize, type Format } from './variant';

/** A validated avatar request: everything needed to find or make the image. */
export interface AvatarRequest {
  chatId: string;
  size: number;
  format: Format;
  /** The format came from Accept, so the response must say `Vary: Accept`. */
  negotiated: boolean;
  /** `?fallback=404`: answer 404 rather than a placeholder. */
  fallback404: boolean;
}

/** `sig` is checked (when signing is on) before parsing; see security/signing. */
const QUERY_PARAMS = new Set(['size', 'fallback', 'sig']);
const INFO_QUERY_PARAMS = new Set(['size', 'sig']);

/** `/avatar/<id>.json`: the JSON info of an avatar rather than the image. */
export const isInfoFile = (file: string): boolean => file.endsWith('.json');

function checkParams(params: URLSearchParams, allowed: Set<string>): void {
  for (const name of params.keys()) {
    if (!allowed.has(name)) throw badRequest('invalid_query', `unknown query parameter "${name.slice(0, 32)}"`);
  }
}

function splitFile(file: string, accept: string | undefined): { chatId: string; format: Format; negotiated: boolean } {
  const dot = file.lastIndexOf('.');
  const ext = dot > 0 ? file.slice(dot + 1) : '';
  const format = parseFormat(ext);
  if (format) {
    const chatId = parseChatId(file.slice(0, dot));
    if (!chatId) throw badRequest('invalid_chat_id', CHAT_ID_RULE);
    return { chatId, format, negotiated: false };
  }
  // A trailing ".xyz" is a format only when it is one we serve: "11001234567@c.us" is an id.
  const whole = parseChatId(file);
  if (whole) return { chatId: whole, format: negotiateFormat(accept), negotiated: true };
  if (dot > 0 && parseChatId(file.slice(0, dot))) {
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
export function parseAvatarRequest(file: string, query: string, accept: string | undefined, defaultSize: number): AvatarRequest {
  const { chatId, format, negotiated } = splitFile(file, accept);
  const params = new URLSearchParams(query);
  checkParams(params, QUERY_PARAMS);
  const size = parseSize(params.getAll('size'), defaultSize);
  const fallback = params.getAll('fallback');
  if (fallback.length > 1 || (fallback.length === 1 && fallback[0] !== '404')) {
    throw badRequest('invalid_fallback', 'fallback must be 404');
  }
  return { chatId, size, format, negotiated, fallback404: fallback.length === 1 };
}

/**
 * Parses `/avatar/<id>.json?size=N`. The request stands for the image of that size in the default format,
 * whose ETag and URLs the JSON describes.
 */
export function parseInfoRequest(file: string, query: string, defaultSize: number, defaultFormat: Format): AvatarRequest {
  const chatId = parseChatId(file.slice(0, -'.json'.length));
  if (!chatId) throw badRequest('invalid_chat_id', CHAT_ID_RULE);
  const params = new URLSearchParams(query);
  checkParams(params, INFO_QUERY_PARAMS);
  return { chatId, size: parseSize(params.getAll('size'), defaultSize), format: defaultFormat, negotiated: false, fallback404: false };
}
