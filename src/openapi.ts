/**
 * The OpenAPI 3.1 description of every route, served at GET /openapi.json. Integration tests validate real
 * responses against it (test/helpers/openapi.ts), so an interface change that forgets this document fails.
 */
import { PLACEHOLDER_CHOICES } from './avatar/request';
import { AVATAR_STATUSES, CACHE_STATES } from './avatar/response';
import { FORMATS, MAX_SIZE, SIZES, urlExtension } from './avatar/variant';
import { INSTANCE_STATES } from './greenapi/breaker';
import { READINESS_STATUSES, UNKNOWN_STATE } from './readiness';

// Enums come from the constants the code uses, so the document cannot drift from them.
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string, headers?: object) => ({ description, ...(headers ? { headers } : {}), content: { 'application/json': { schema } } });
const error = (description: string, headers?: object) => json(ref('ErrorBody'), description, headers);
const header = (description: string, required = true, schema: object = { type: 'string' }) => ({ description, required, schema });

/** The JSON info's `urls`: one per format, named as the service spells it in URLs. */
const URL_KEYS = FORMATS.map(urlExtension);

const AVATAR_HEADERS = {
  ETag: header('Strong validator: the picture (content hash), the variant and the rendering pipeline; or the placeholder'),
  'Cache-Control': header('public, max-age=N[, stale-while-revalidate=S] while the answer is fresh; no-store for pending, error and rate-limited'),
  'X-Cache': header('HIT, MISS (waited for a worker) or STALE (served while a refresh runs)', true, { enum: [...CACHE_STATES] }),
  'X-Avatar-Status': header('What the picture is', true, ref('AvatarStatus')),
  'Surrogate-Key': header('Names the contact (a hash of its chatId) for purging a CDN by tag'),
  'Cache-Tag': header('The same tag, for CDNs that read Cache-Tag'),
  'X-Request-Id': header('The request id (given, or generated)'),
  'Access-Control-Allow-Origin': header('CORS: * by default, or the request Origin when CORS_ORIGINS lists it', false),
};

const ID_PARAM = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'A phone number with country code (8-15 digits), a group id <digits>-<digits>, or a chatId ending in @c.us, @g.us or @lid',
  schema: { type: 'string' },
};
/** Public avatar URLs also take opaque ids. */
const AVATAR_ID_PARAM = {
  ...ID_PARAM,
  description: `${ID_PARAM.description}; or (with ID_KEYS) an opaque id p-<token> (see docs/signed-urls-and-opaque-ids.md); with PUBLIC_IDS=opaque, opaque ids only`,
};
const UNKNOWN_ID = error('unknown_id: an opaque id that no key of ID_KEYS made (tampered, truncated, foreign key, not base64url)');
const SIZE_PARAM = { name: 'size', in: 'query', description: `Pixels, 1-${MAX_SIZE}, snapped up to ${SIZES.join(' ')}`, schema: { type: 'integer', minimum: 1, maximum: MAX_SIZE } };
const SIG_PARAMS = [
  { name: 'sig', in: 'query', description: 'HMAC-SHA256 signature (required when SIGNING_KEY or SIGNING_KEYS is set)', schema: { type: 'string' } },
  { name: 'exp', in: 'query', description: 'Unix seconds after which a signed URL expires', schema: { type: 'integer' } },
];
const ADMIN = [{ bearer: [] }];

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'avatar-cdn',
    version: '1',
    description: "Cached WhatsApp avatars (Green API GetAvatar) as stable URLs, in any size and format, with placeholders, JSON info and change events.",
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN; admin routes answer 404 when it is unset' } },
    schemas: {
      ErrorBody: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
      },
      AvatarStatus: { type: 'string', enum: [...AVATAR_STATUSES] },
      AvatarInfo: {
        type: 'object',
        required: ['chatId', 'status', 'etag', 'updatedAt', 'width', 'height', 'color', 'placeholder', 'thumbhash', 'urls', 'srcset'],
        additionalProperties: false,
        properties: {
          chatId: { type: 'string', description: 'The chatId, or the opaque id the request named the contact by (never the number then)' },
          status: ref('AvatarStatus'),
          etag: { type: 'string', description: 'The ETag of the image at this size in the default format' },
          updatedAt: { type: ['string', 'null'], format: 'date-time', description: 'When the answer last changed' },
          width: { type: 'integer' },
          height: { type: 'integer' },
          color: { type: 'string', pattern: '^#[0-9a-f]{6}$', description: "The picture's dominant colour, or the placeholder's background" },
          placeholder: { type: 'string', description: 'A blur-up image as a data URI (from the ThumbHash), under 1 KB' },
          thumbhash: { type: ['string', 'null'], description: 'ThumbHash of the picture, base64' },
          urls: {
            type: 'object',
            required: URL_KEYS,
            additionalProperties: false,
            properties: Object.fromEntries(URL_KEYS.map((key) => [key, { type: 'string' }])),
          },
          srcset: { type: 'string', description: 'The default format at 1x, 2x and 3x of the size' },
        },
      },
      WarmRequest: {
        oneOf: [
          {
            type: 'object',
            required: ['chatIds'],
            properties: { chatIds: { type: 'array', maxItems: 10000, items: { type: ['string', 'number'] } }, force: { type: 'boolean' } },
          },
          {
            type: 'object',
            required: ['source'],
            description: "The instances' address books (one GetContacts call each), or one instance's",
            properties: { source: { const: 'contacts' }, instance: { type: ['string', 'number'], description: 'One configured idInstance' }, force: { type: 'boolean' } },
          },
        ],
      },
      NotificationSummary: {
        type: 'object',
        required: ['received', 'queued', 'fresh', 'dropped', 'ignored'],
        properties: Object.fromEntries(['received', 'queued', 'fresh', 'dropped', 'ignored'].map((k) => [k, { type: 'integer' }])),
      },
      WarmAccepted: {
        type: 'object',
        required: ['accepted', 'duplicates', 'invalid'],
        properties: {
          batchId: { type: 'string' },
          accepted: { type: 'integer' },
          duplicates: { type: 'integer' },
          invalid: { type: 'array', items: { type: 'object', required: ['id', 'error'], properties: { id: { type: 'string' }, error: { type: 'string' } } } },
        },
      },
      BatchStatus: {
        type: 'object',
        required: ['total', 'done', 'withAvatar', 'noAvatar', 'private', 'notOnWhatsapp', 'failed', 'pending'],
        properties: Object.fromEntries(['total', 'done', 'withAvatar', 'noAvatar', 'private', 'notOnWhatsapp', 'failed', 'pending'].map((k) => [k, { type: 'integer' }])),
      },
      Readiness: {
        type: 'object',
        description: 'The public port gives status alone; the parts and instances with Authorization: Bearer <ADMIN_TOKEN>, or on METRICS_PORT',
        required: ['status'],
        properties: {
          status: { enum: Object.values(READINESS_STATUSES) },
          redis: { type: 'string', description: 'ok, or why not: "unreachable (connection refused)"' },
          queue: { type: 'string' },
          storage: { type: 'string', description: 'the durable store: ok, none (STORAGE_URL=none), or "failing (<reason>)"; never makes the service unready' },
          upstream: { enum: [...INSTANCE_STATES, UNKNOWN_STATE] },
          instances: { type: 'object', additionalProperties: { type: 'string' } },
          quota: { type: 'object', description: 'What the last HTTP 466 said, per instance paused for it' },
        },
      },
    },
  },
  paths: {
    '/avatar/{id}.json': {
      get: {
        summary: 'JSON info of an avatar: status, ETag, colour, ThumbHash, blur-up placeholder, URLs, srcset',
        parameters: [AVATAR_ID_PARAM, SIZE_PARAM, ...SIG_PARAMS],
        responses: {
          200: json(ref('AvatarInfo'), 'The info (its own ETag; 304 for If-None-Match)', { ETag: AVATAR_HEADERS.ETag, 'Cache-Control': AVATAR_HEADERS['Cache-Control'], 'X-Avatar-Status': AVATAR_HEADERS['X-Avatar-Status'] }),
          304: { description: 'Not modified' },
          400: error('Bad id or parameter (opaque_id_required: a plain id with PUBLIC_IDS=opaque)'),
          403: error('Missing, invalid or expired signature'),
          404: UNKNOWN_ID,
          429: json(ref('AvatarInfo'), 'Too many lookups by this client (status rate-limited)', { 'Retry-After': header('Seconds') }),
        },
      },
    },
    '/avatar/{file}': {
      parameters: [
        { name: 'file', in: 'path', required: true, description: `<id>.<format> (${[...FORMATS, 'jpg'].join(', ')}) or <id> (format from Accept); <id> as in /avatar/{id}.json, opaque ids p-<token> included`, schema: { type: 'string' } },
      ],
      get: {
        summary: 'The avatar (or a placeholder) as an image of the asked size and format',
        parameters: [
          SIZE_PARAM,
          { name: 'd', in: 'query', description: `Placeholder: ${PLACEHOLDER_CHOICES.join(', ')} (mp: the silhouette)`, schema: { enum: [...PLACEHOLDER_CHOICES] } },
          { name: 'name', in: 'query', description: 'With d=initials: take the initials of this name', schema: { type: 'string', maxLength: 64 } },
          { name: 'initials', in: 'query', description: 'With d=initials: up to two letters', schema: { type: 'string', maxLength: 64 } },
          { name: 'fallback', in: 'query', description: '404 instead of a placeholder', schema: { enum: ['404'] } },
          ...SIG_PARAMS,
        ],
        responses: {
          200: { description: 'The picture, or a placeholder (X-Avatar-Status says which)', headers: AVATAR_HEADERS, content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } },
          304: { description: 'Not modified (If-None-Match)', headers: { ETag: AVATAR_HEADERS.ETag } },
          400: error('Bad id, format, size or parameter (opaque_id_required: a plain id with PUBLIC_IDS=opaque)'),
          403: error('Missing, invalid or expired signature'),
          404: error('No picture to show, with d=404 or fallback=404; or unknown_id: an opaque id that no key of ID_KEYS made', { 'X-Avatar-Status': AVATAR_HEADERS['X-Avatar-Status'] }),
          429: { description: 'Too many lookups or renders by this client: the placeholder, with Retry-After', headers: { 'Retry-After': header('Seconds') }, content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } },
        },
      },
      head: { summary: 'As GET, without the body', responses: { 200: { description: 'Headers only' }, 304: { description: 'Not modified' } } },
      options: { summary: 'CORS preflight', responses: { 204: { description: 'Allowed methods and headers' } } },
    },
    '/v1/warm': {
      post: {
        summary: 'Pre-load avatars for a contact list (admin)',
        security: ADMIN,
        requestBody: { content: { 'application/json': { schema: ref('WarmRequest') }, 'text/plain': { schema: { type: 'string', description: 'One id per line' } } } },
        responses: {
          202: json(ref('WarmAccepted'), 'Accepted: lookups queued behind interactive ones'),
          400: error('Malformed body, no ids, an empty address book (no_contacts) or an instance that is not configured (unknown_instance)'),
          401: error('Missing or wrong Bearer token'),
          404: error('ADMIN_TOKEN is unset'),
          413: error('More than 10,000 ids'),
          429: error('The warm backlog is full (MAX_WARM_BACKLOG)', { 'Retry-After': header('Seconds') }),
          502: error('GetContacts failed (upstream_error)'),
          503: error('The instance is paused or out of call slots (upstream_unavailable)'),
        },
      },
    },
    '/v1/greenapi/webhook': {
      post: {
        summary: "Green API's webhook notifications (with GREENAPI_WEBHOOK_TOKEN): messages warm the chat and the sender, stateInstanceChanged and quotaExceeded pause or resume the instance",
        parameters: [{ name: 'Authorization', in: 'header', required: true, description: 'The webhookUrlToken, bare or as Bearer', schema: { type: 'string' } }],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                oneOf: [
                  { type: 'object', required: ['typeWebhook'], properties: { typeWebhook: { type: 'string' } } },
                  { type: 'array', maxItems: 1000, items: { type: 'object', required: ['typeWebhook'], properties: { typeWebhook: { type: 'string' } } } },
                ],
              },
            },
          },
        },
        responses: {
          200: json(ref('NotificationSummary'), 'Taken: lookups queued (or fresh, or dropped over MAX_WARM_BACKLOG), pauses written; nothing waited for Green API'),
          400: error('invalid_json, invalid_body, invalid_notification (no typeWebhook), too_many_notifications (over 1,000)'),
          401: error('Missing or wrong token'),
          404: error('GREENAPI_WEBHOOK_TOKEN is unset'),
          413: error('A body over 1 MB'),
          503: error('The work cannot be queued now (Redis): Green API delivers it again', { 'Retry-After': header('Seconds') }),
        },
      },
    },
    '/v1/warm/{batchId}': {
      get: {
        summary: 'Progress of a warm batch (admin; kept a day)',
        security: ADMIN,
        parameters: [{ name: 'batchId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: json(ref('BatchStatus'), 'Counts'), 401: error('Missing or wrong Bearer token'), 404: error('No such batch') },
      },
    },
    '/v1/avatars/{id}/refresh': {
      post: {
        summary: 'Resolve one contact again now, whatever the freshness (admin): one GetAvatar call, joined if one is in flight',
        security: ADMIN,
        parameters: [ID_PARAM],
        responses: {
          202: json({ type: 'object', required: ['chatId', 'refresh'], properties: { chatId: { type: 'string' }, refresh: { const: 'queued' } } }, 'Queued'),
          400: error('Bad id'),
          401: error('Missing or wrong Bearer token'),
          404: error('ADMIN_TOKEN is unset'),
          429: error('More than REFRESH_RATE_PER_MIN refreshes this minute', { 'Retry-After': header('Seconds') }),
        },
      },
    },
    '/v1/avatars/{id}': {
      delete: {
        summary: 'Forget one contact (admin): its record and every stored byte of a picture no other contact shows; the next request resolves it again',
        security: ADMIN,
        parameters: [ID_PARAM],
        responses: {
          204: { description: 'Forgotten' },
          400: error('Bad id'),
          401: error('Missing or wrong Bearer token'),
          404: error('ADMIN_TOKEN is unset'),
          503: error('The durable store could not erase it (storage_unavailable): try again', { 'Retry-After': header('Seconds') }),
        },
      },
    },
    '/healthz': {
      get: { summary: 'Liveness', responses: { 200: json({ type: 'object', required: ['status'], properties: { status: { const: 'ok' } } }, 'The process runs') } },
    },
    '/readyz': {
      get: { summary: 'Readiness: Redis and the queue answer', responses: { 200: json(ref('Readiness'), 'Ready'), 503: json(ref('Readiness'), 'Not ready: which part, and why') } },
    },
    '/metrics': {
      get: { summary: 'Prometheus metrics (on METRICS_PORT instead when it is set)', responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { 200: json({ type: 'object' }, 'OpenAPI 3.1') } },
    },
    '/demo/refresh': {
      post: {
        summary: "The demo page's \"Look up again\" (DEMO_PAGE=true only): a forced lookup of one of DEMO_CONTACTS",
        parameters: [{ name: 'id', in: 'query', required: true, schema: { type: 'string' } }],
        responses: {
          202: json({ type: 'object', required: ['chatId', 'refresh'], properties: { chatId: { type: 'string' }, refresh: { const: 'queued' } } }, 'Queued'),
          403: error('Not one of DEMO_CONTACTS (not_a_demo_contact)'),
          429: error('More than REFRESH_RATE_PER_MIN refreshes this minute', { 'Retry-After': header('Seconds') }),
        },
      },
    },
    '/demo/urls': {
      get: {
        summary: "The demo page's lookup box (DEMO_PAGE=true only): an id as people type it, normalised, with the URLs to fetch (signed when signing is on)",
        parameters: [{ name: 'id', in: 'query', required: true, schema: { type: 'string' } }],
        responses: {
          200: json(
            { type: 'object', required: ['id', 'chatId', 'json', 'image', 'sizes', 'formats'], properties: { id: { type: 'string' }, chatId: { type: 'string' }, json: { type: 'string' }, image: { type: 'string' }, sizes: { type: 'object' }, formats: { type: 'object' } } },
            'The normalised id and its URLs',
          ),
          400: error('Not a phone number, group id or chatId'),
          403: error('With signing keys set, an id that is not one of DEMO_CONTACTS (not_a_demo_contact)'),
        },
      },
    },
    '/': {
      get: { summary: 'The demo page (DEMO_PAGE=true only)', responses: { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } }, 404: error('The demo page is off') } },
    },
  },
} as const;
