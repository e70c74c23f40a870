import { z } from 'zod';
import { FORMATS, SIZES, type Format } from './avatar/variant';
import { parseChatId } from './avatar/chat-id';
import type { RedisTarget } from './redis';

/**
 * Typed configuration: the only module that knows environment variable names.
 * `loadConfig(process.env)` is called by entry points; everything else receives a `Config`.
 */

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean));
const url = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const redisUrl = z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379' });

/** `idInstance:apiToken` or `idInstance:apiToken@https://api-url` */
const INSTANCE_ENTRY = /^(\d+):([^@\s]+)(?:@(https?:\/\/\S+))?$/;

const CLUSTER_NODES = /^\s*[\w.-]+:\d+(\s*,\s*[\w.-]+:\d+)*\s*$/;
const CLUSTER_URL = /^redis\+cluster:\/\/([\w.-]+:\d+(,[\w.-]+:\d+)*)\/?$/;

const parseNodes = (list: string) =>
  list.split(',').map((entry) => {
    const [host, port] = entry.trim().split(':');
    return { host: host!, port: Number(port) };
  });

const schema = z.object({
  PORT: int(0, 65535).default(3000),
  WORKER_PORT: int(0, 65535).default(3001),
  METRICS_PORT: int(0, 65535).optional(),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  API_PROCESSES: int(1, 64).default(1),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  REDIS_URL: z
    .string()
    .refine((v) => redisUrl.safeParse(v).success || CLUSTER_URL.test(v), 'must be a redis://, rediss:// or redis+cluster://host:port,host:port URL, e.g. redis://127.0.0.1:6379')
    .default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: z.string().regex(CLUSTER_NODES, 'comma-separated host:port').optional(),
  QUEUE_REDIS_URL: redisUrl.optional(),
  KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}-]+$/, 'letters, digits, _ - { } only')
    .default('avatar-cdn'),
  REDIS_COMMAND_TIMEOUT_MS: int(50, 60_000).default(1000),

  GREEN_API_URL: url.default('https://api.green-api.com'),
  GREEN_API_ID_INSTANCE: z.string().regex(/^\d+$/, 'digits only').optional(),
  GREEN_API_TOKEN_INSTANCE: z.string().min(1).optional(),
  GREEN_API_INSTANCES: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(INSTANCE_ENTRY, 'comma-separated idInstance:apiToken or idInstance:apiToken@apiUrl')).min(1))
    .optional(),
  GREEN_API_TIMEOUT_MS: int(100, 120_000).default(10_000),
  GREEN_API_RATE_PER_SEC: int(1, 1000).default(10),
  QUOTA_COOLDOWN_SECONDS: int(0).default(3600),
  AUTH_COOLDOWN_SECONDS: int(0).default(300),
  MAX_UPSTREAM_PAUSE_SECONDS: int(1, 86_400).default(300),
  GREENAPI_WEBHOOK_TOKEN: z.string().regex(/^\S+$/, 'no spaces (the instance\'s webhookUrlToken)').optional(),

  AVATAR_SOURCE_HOSTS: csv.default(['pps.whatsapp.net']),
  AVATAR_SOURCE_ALLOW_HTTP: bool.default(false),
  AVATAR_SOURCE_ALLOW_PRIVATE: bool.default(false),
  MAX_SOURCE_BYTES: int(1024).default(5 * 1024 * 1024),
  // WhatsApp's largest profile picture is 640 x 640.
  MAX_SOURCE_PIXELS: int(1).default(1024 * 1024),
  DOWNLOAD_TIMEOUT_MS: int(100, 120_000).default(10_000),

  AVATAR_TTL_SECONDS: int(1).default(86_400),
  AVATAR_MAX_TTL_SECONDS: int(1).default(4 * 86_400),
  NEGATIVE_TTL_SECONDS: int(1).default(3600),
  NEGATIVE_MAX_TTL_SECONDS: int(1).default(4 * 86_400),
  IMAGE_TTL_SECONDS: int(1).default(30 * 86_400),
  BROWSER_MAX_AGE_SECONDS: int(0).default(3600),
  STALE_MAX_AGE_SECONDS: int(0).default(60),
  MISS_WAIT_MS: int(0, 60_000).default(3000),
  DEFAULT_SIZE: z.coerce
    .number()
    .refine((n): n is (typeof SIZES)[number] => (SIZES as readonly number[]).includes(n), `one of ${SIZES.join(', ')}`)
    .default(128),
  // `jpg` as in URLs: one image with `jpeg`.
  DEFAULT_FORMAT: z
    .string()
    .transform((v) => (v === 'jpg' ? 'jpeg' : v))
    .pipe(z.enum(FORMATS, { error: 'webp, avif, png, jpg or jpeg' }))
    .default('webp'),
  MEMORY_CACHE_MB: int(0, 4096).default(64),
  MEMORY_CACHE_TTL_MS: int(0).default(10_000),

  FAILURE_BACKOFF_SECONDS: int(0).default(60),

  SIGNING_KEY: z.string().min(16, 'at least 16 characters').optional(),
  SIGNING_KEYS: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(16, 'comma-separated keys of at least 16 characters each')).min(1))
    .optional(),
  ID_KEYS: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(32, 'comma-separated keys of at least 32 characters each')).min(1))
    .optional(),
  PUBLIC_IDS: z.enum(['any', 'opaque'], { error: 'any or opaque' }).default('any'),
  MISS_RATE_PER_MIN: int(0).default(60),
  RENDER_RATE_PER_MIN: int(0).default(300),
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d+|[0-9a-fA-F.:/, ]+|loopback|linklocal|uniquelocal)$/, 'true, false, a hop count, or addresses/subnets')
    .default('false'),
  ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  CORS_ORIGINS: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim().replace(/\/+$/, '')).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'comma-separated origins like https://app.example.com, or *')))
    .default(['*']),

  JOB_ATTEMPTS: int(1, 50).default(5),
  JOB_BACKOFF_MS: int(10, 600_000).default(500),
  JOB_LOCK_MS: int(1000, 600_000).default(30_000),
  FAILED_JOBS_KEEP: int(0, 1_000_000).default(1000),
  MAX_QUEUE_BACKLOG: int(0).default(10_000),
  LOOKUP_BACKLOG_SECONDS: int(0, 3600).default(10),
  REFRESH_RATE_PER_MIN: int(0).default(60),
  MAX_WARM_BACKLOG: int(0).default(100_000),
  REFRESH_AHEAD_SECONDS: int(0).default(3600),
  REFRESH_CHECK_SECONDS: int(1, 86_400).default(60),

  WEBHOOK_URL: url.optional(),
  WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(10_000),
  EVENTS_STREAM_MAX: int(1).default(10_000),

  DEMO_PAGE: bool.default(false),
  // `id` or `id=label` (what the demo page says the contact is), comma-separated.
  DEMO_CONTACTS: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .default([]),

  STORAGE_URL: z
    .string()
    .regex(/^(none|file:.+|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?)$/, 'none, file:<path> (e.g. file:./data) or s3://<bucket>[/<prefix>]')
    .default('file:./data'),
  S3_ENDPOINT: url.optional(),
  S3_REGION: z.string().regex(/^[a-z0-9-]+$/, 'a region name like us-east-1').default('us-east-1'),
  S3_FORCE_PATH_STYLE: bool.optional(),
  STORAGE_TIMEOUT_MS: int(100, 120_000).default(5000),
  STORAGE_RETENTION_DAYS: int(0, 36_500).default(90),

  WORKER_CONCURRENCY: int(1, 256).default(4),
  RENDER_CONCURRENCY: int(1, 64).default(4),
});

/** Every environment variable the service reads (docs/configuration.md and .env.example document each). */
export const CONFIG_VARIABLES = Object.keys(schema.shape);

export type Env = Record<string, string | undefined>;

/** Where pictures, thumbnails and records are kept for good (Redis caches them). */
export type StorageTarget =
  | { kind: 'none' }
  | { kind: 'file'; dir: string }
  | { kind: 's3'; bucket: string; prefix: string; endpoint?: string; region: string; forcePathStyle: boolean };

export interface Config {
  port: number;
  /** A worker-only process serves /healthz, /readyz and /metrics here. */
  workerPort: number;
  /** When set, /metrics is served on this port only (so it need not be public). */
  metricsPort?: number;
  /** On SIGTERM, how long in-flight requests and jobs may take before the process closes anyway. */
  shutdownTimeoutMs: number;
  /** API processes sharing the port (node:cluster) for machines with more cores. */
  apiProcesses: number;
  host: string;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  redis: {
    /** The cache; the queue too unless queueTarget says otherwise. */
    cache: RedisTarget;
    queue: RedisTarget;
    commandTimeoutMs: number;
    /** Prefix of cache keys. */
    keyPrefix: string;
    /** Prefix of BullMQ keys: the key prefix, hash-tagged on a cluster so each queue's keys share a slot. */
    queuePrefix: string;
  };
  greenApi: {
    /** One instance (GREEN_API_ID_INSTANCE, GREEN_API_TOKEN_INSTANCE) or a pool (GREEN_API_INSTANCES). */
    instances: { url: string; idInstance: string; apiToken: string }[];
    timeoutMs: number;
    /** Per instance. */
    ratePerSec: number;
    /** No calls for this long after a 466 (quota) or a 401/403/400 (credentials, instance not ready). */
    cooldowns: { quotaSeconds: number; unauthorizedSeconds: number };
    /** The longest pause an upstream 429 causes, whatever its Retry-After says (the shortest is a second). */
    maxPauseSeconds: number;
    /** When set, POST /v1/greenapi/webhook takes the instances' notifications with this webhookUrlToken. */
    webhookToken?: string;
  };
  source: {
    allowedHosts: string[];
    allowHttp: boolean;
    /** Sources on loopback, private or reserved addresses (the demo and tests); off in production. */
    allowPrivate: boolean;
    maxBytes: number;
    maxPixels: number;
    timeoutMs: number;
  };
  ttl: {
    /** Freshness of an answer: starts at the base, doubles at each refresh that finds it unchanged, up to the max. */
    avatarSeconds: number;
    avatarMaxSeconds: number;
    negativeSeconds: number;
    negativeMaxSeconds: number;
    imageSeconds: number;
    browserMaxAgeSeconds: number;
    staleMaxAgeSeconds: number;
  };
  missWaitMs: number;
  /** After a resolve job finally fails, requests for that chatId get the error placeholder this long, with no new job. */
  failureBackoffSeconds: number;
  security: {
    /** When set, /avatar URLs must carry a valid `sig`: made with the first key, checked against all (rotation). */
    signingKeys?: string[];
    /** When set, `p-<token>` ids stand for contacts in public URLs: made with the first key, read with all (rotation). */
    idKeys?: string[];
    /** `opaque`: public avatar URLs refuse plain numbers and chatIds (400 opaque_id_required). */
    publicIds: 'any' | 'opaque';
    /** Requests per client IP per minute that may start an upstream call; 0 turns the limit off. */
    missRatePerMin: number;
    /** Requests per client IP per minute that may cause a render of a new variant; 0 turns the limit off. */
    renderRatePerMin: number;
    /** Express's `trust proxy`: whether X-Forwarded-For is believed. */
    trustProxy: boolean | number | string;
    /** When unset, admin endpoints are off (404). */
    adminToken?: string;
    /** Origins allowed to read avatars and JSON from scripts; `*` for any. */
    corsOrigins: string[];
  };
  /** Change events: a capped Redis Stream, and a signed webhook when a URL is set. */
  events: {
    streamMax: number;
    webhook?: { url: string; secret: string; timeoutMs: number };
  };
  /** GET / shows these contacts' avatars and a lookup box; off by default (an open lookup box is an oracle). */
  demoPage?: { contacts: { id: string; label?: string }[] };
  storage: {
    target: StorageTarget;
    /** Bounds one storage operation. */
    timeoutMs: number;
    /** Contacts neither served nor refreshed for this many days are removed with their unshared pictures; 0: kept. */
    retentionDays: number;
  };
  defaultSize: number;
  defaultFormat: Format;
  memoryCache: { maxBytes: number; ttlMs: number };
  worker: { concurrency: number; renderConcurrency: number };
  jobs: {
    /** Attempts of a job with transient failures, with exponential backoff (and jitter) from backoffMs. */
    attempts: number;
    backoffMs: number;
    /** A job whose worker died is taken up again after about this long (BullMQ stalled-job recovery). */
    lockMs: number;
    /** Failed jobs kept per queue for inspection (dashboard, metrics). */
    failedKeep: number;
    /** Waiting interactive jobs beyond which new misses get the pending placeholder at once instead of queueing. */
    maxBacklog: number;
    /**
     * Interactive lookups waiting, counted in seconds of the instances' GetAvatar rate (rate x instances x this),
     * beyond which new cold contacts get `pending` at once and no job: a flood from many addresses cannot queue
     * hours of billed calls. 0 leaves only maxBacklog.
     */
    lookupBacklogSeconds: number;
    /** Admin refreshes (POST /v1/avatars/:id/refresh) per minute, all callers together; 0 turns the limit off. */
    refreshRatePerMin: number;
    /** Waiting warm lookups (forced or not) beyond which POST /v1/warm answers 429. */
    maxWarmBacklog: number;
  };
  refreshAhead: {
    /** Avatars requested recently whose answer expires within this many seconds are re-resolved; 0: off. */
    seconds: number;
    /** How often the keep-fresh job runs. */
    checkSeconds: number;
  };
}

/** A bad or missing variable; its message is one line that names it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** One DEMO_CONTACTS entry: `id` or `id=label` (a label without commas). */
function demoContact(entry: string): { id: string; label?: string } {
  const [id, ...label] = entry.split('=');
  if (!parseChatId(id!.trim())) throw new ConfigError(`DEMO_CONTACTS is invalid: "${id!.trim().slice(0, 64)}" is not a phone number, group id or chatId (entries are id or id=label, comma-separated)`);
  return label.length > 0 ? { id: id!.trim(), label: label.join('=').trim() } : { id: id!.trim() };
}

function storageTarget(e: { STORAGE_URL: string; S3_ENDPOINT?: string; S3_REGION: string; S3_FORCE_PATH_STYLE?: boolean }): StorageTarget {
  const url = e.STORAGE_URL;
  if (url === 'none') return { kind: 'none' };
  if (url.startsWith('file:')) return { kind: 'file', dir: url.startsWith('file://') ? new URL(url).pathname : url.slice('file:'.length) };
  const [bucket, ...prefix] = url.slice('s3://'.length).split('/');
  return {
    kind: 's3',
    bucket: bucket!,
    prefix: prefix.filter(Boolean).join('/'),
    endpoint: e.S3_ENDPOINT?.replace(/\/+$/, ''),
    region: e.S3_REGION,
    forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
  };
}

export function loadConfig(env: Env): Config {
  // Empty strings mean "unset", as in most .env files.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    const reason = issue.code === 'invalid_type' && present[name] === undefined ? 'is required' : `is invalid: ${issue.message}`;
    throw new ConfigError(`${name} ${reason}`);
  }
  const e = parsed.data;
  if (e.PUBLIC_IDS === 'opaque' && !e.ID_KEYS) throw new ConfigError('ID_KEYS is required with PUBLIC_IDS=opaque (opaque ids are made with it)');
  if (e.WEBHOOK_URL && !e.WEBHOOK_SECRET) throw new ConfigError('WEBHOOK_SECRET is required with WEBHOOK_URL (receivers check the signature with it)');
  const clusterList = e.REDIS_CLUSTER_NODES ?? CLUSTER_URL.exec(e.REDIS_URL)?.[1];
  const cluster = clusterList !== undefined;
  const cache: RedisTarget = cluster ? { clusterNodes: parseNodes(clusterList) } : { url: e.REDIS_URL };
  const apiUrl = e.GREEN_API_URL.replace(/\/+$/, '');
  let instances: Config['greenApi']['instances'];
  if (e.GREEN_API_INSTANCES) {
    instances = e.GREEN_API_INSTANCES.map((entry) => {
      const [, idInstance, apiToken, url] = INSTANCE_ENTRY.exec(entry)!;
      return { idInstance: idInstance!, apiToken: apiToken!, url: (url ?? apiUrl).replace(/\/+$/, '') };
    });
  } else {
    if (!e.GREEN_API_ID_INSTANCE) throw new ConfigError('GREEN_API_ID_INSTANCE is required (or GREEN_API_INSTANCES)');
    if (!e.GREEN_API_TOKEN_INSTANCE) throw new ConfigError('GREEN_API_TOKEN_INSTANCE is required');
    instances = [{ idInstance: e.GREEN_API_ID_INSTANCE, apiToken: e.GREEN_API_TOKEN_INSTANCE, url: apiUrl }];
  }
  return {
    port: e.PORT,
    workerPort: e.WORKER_PORT,
    metricsPort: e.METRICS_PORT,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    apiProcesses: e.API_PROCESSES,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    redis: {
      cache,
      queue: cluster ? cache : { url: e.QUEUE_REDIS_URL ?? e.REDIS_URL },
      commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
      keyPrefix: e.KEY_PREFIX,
      queuePrefix: cluster && !e.KEY_PREFIX.includes('{') ? `{${e.KEY_PREFIX}}` : e.KEY_PREFIX,
    },
    greenApi: {
      instances,
      timeoutMs: e.GREEN_API_TIMEOUT_MS,
      ratePerSec: e.GREEN_API_RATE_PER_SEC,
      cooldowns: { quotaSeconds: e.QUOTA_COOLDOWN_SECONDS, unauthorizedSeconds: e.AUTH_COOLDOWN_SECONDS },
      webhookToken: e.GREENAPI_WEBHOOK_TOKEN,
      maxPauseSeconds: e.MAX_UPSTREAM_PAUSE_SECONDS,
    },
    source: {
      allowedHosts: e.AVATAR_SOURCE_HOSTS,
      allowHttp: e.AVATAR_SOURCE_ALLOW_HTTP,
      allowPrivate: e.AVATAR_SOURCE_ALLOW_PRIVATE,
      maxBytes: e.MAX_SOURCE_BYTES,
      maxPixels: e.MAX_SOURCE_PIXELS,
      timeoutMs: e.DOWNLOAD_TIMEOUT_MS,
    },
    ttl: {
      avatarSeconds: e.AVATAR_TTL_SECONDS,
      avatarMaxSeconds: e.AVATAR_MAX_TTL_SECONDS,
      negativeSeconds: e.NEGATIVE_TTL_SECONDS,
      negativeMaxSeconds: e.NEGATIVE_MAX_TTL_SECONDS,
      imageSeconds: e.IMAGE_TTL_SECONDS,
      browserMaxAgeSeconds: e.BROWSER_MAX_AGE_SECONDS,
      staleMaxAgeSeconds: e.STALE_MAX_AGE_SECONDS,
    },
    missWaitMs: e.MISS_WAIT_MS,
    failureBackoffSeconds: e.FAILURE_BACKOFF_SECONDS,
    security: {
      signingKeys: e.SIGNING_KEYS ?? (e.SIGNING_KEY ? [e.SIGNING_KEY] : undefined),
      idKeys: e.ID_KEYS,
      publicIds: e.PUBLIC_IDS,
      missRatePerMin: e.MISS_RATE_PER_MIN,
      renderRatePerMin: e.RENDER_RATE_PER_MIN,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      adminToken: e.ADMIN_TOKEN,
      corsOrigins: e.CORS_ORIGINS,
    },
    events: {
      streamMax: e.EVENTS_STREAM_MAX,
      webhook: e.WEBHOOK_URL ? { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET!, timeoutMs: e.WEBHOOK_TIMEOUT_MS } : undefined,
    },
    storage: { target: storageTarget(e), timeoutMs: e.STORAGE_TIMEOUT_MS, retentionDays: e.STORAGE_RETENTION_DAYS },
    demoPage: e.DEMO_PAGE ? { contacts: e.DEMO_CONTACTS.map(demoContact) } : undefined,
    defaultSize: e.DEFAULT_SIZE,
    defaultFormat: e.DEFAULT_FORMAT,
    memoryCache: { maxBytes: e.MEMORY_CACHE_MB * 1024 * 1024, ttlMs: e.MEMORY_CACHE_TTL_MS },
    worker: { concurrency: e.WORKER_CONCURRENCY, renderConcurrency: e.RENDER_CONCURRENCY },
    refreshAhead: { seconds: e.REFRESH_AHEAD_SECONDS, checkSeconds: e.REFRESH_CHECK_SECONDS },
    jobs: { attempts: e.JOB_ATTEMPTS, backoffMs: e.JOB_BACKOFF_MS, lockMs: e.JOB_LOCK_MS, failedKeep: e.FAILED_JOBS_KEEP, maxBacklog: e.MAX_QUEUE_BACKLOG, lookupBacklogSeconds: e.LOOKUP_BACKLOG_SECONDS, refreshRatePerMin: e.REFRESH_RATE_PER_MIN, maxWarmBacklog: e.MAX_WARM_BACKLOG },
  };
}
