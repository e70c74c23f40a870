import { LRUCache } from 'lru-cache';
import type { ResponseMemory } from './memory-cache';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Ensure } from '../work/ensure';
import type { RenderOutcome, Resolved, ResolveOutcome } from '../work/outcome';
import { AppError } from '../errors';
import { createAdmission, type BudgetKind, type WorkBudget } from './admission';
import { createPlaceholderResponses } from './placeholder-responses';
import { avatarEtag } from './etag';
import { renderKey } from '../queue/jobs';
import type { Placeholders } from './placeholder';
import type { AvatarRequest } from './request';
import {
  answerCacheControl,
  imageResponse,
  type AvatarResponse,
  type CacheLimits,
  type CacheState,
} from './response';
import type { AvatarRead, AvatarStore, ServedRecord, VariantName } from './store';

export interface AvatarServiceOptions extends CacheLimits {
  missWaitMs: number;
  /** Headers every avatar response carries (CORS for any origin), prepared with the response. */
  staticHeaders: Record<string, string>;
}

/** Where served chatIds are remembered for keep-fresh (warm/recent). */
export interface ServedContacts {
  touch(chatId: string): void;
}

export interface AvatarServiceDeps {
  store: AvatarStore;
  /** Ready responses of fresh records, dropped when a record changes (see memory-cache). */
  memory: ResponseMemory;
  ensure: Ensure;
  placeholders: Placeholders;
  /** Per-client budgets: lookups that start an upstream call, renders of new variants. */
  limits: Record<BudgetKind, WorkBudget>;
  /** Where served chatIds are remembered for refresh-ahead (absent when it is off). */
  recent?: ServedContacts;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  options: AvatarServiceOptions;
}

export interface ServeContext {
  /** Counts against MISS_RATE_PER_MIN when the request would start an upstream call. */
  clientIp: string;
  /** Where the ready response is kept in memory (see responseCacheKey). */
  cacheKey: string;
  /** The request's logger (its lines carry the request id). */
  log?: Logger;
  /** What `stored` already read from Redis for this request, so the miss path does not read it again. */
  read?: AvatarRead;
  /** Why `stored` could not read Redis for this request: answered at once, without waiting a second time. */
  failure?: Error;
}

/** A ready response, or what was read when the request needs more than a fresh answer. */
export type StoredResult = { response: AvatarResponse } | { read: AvatarRead };

export interface AvatarService {
  /** The response for a request: from memory, from Redis, or after waiting (bounded) for a worker. */
  serve(req: AvatarRequest, context: ServeContext): Promise<AvatarResponse>;
  /** A response already in this process's memory, or undefined; never does I/O. */
  cached(cacheKey: string): AvatarResponse | undefined;
  /**
   * A fresh answer from Redis (one round trip), for a request `cached` did not answer; when the request needs
   * more (a miss, a stale answer, a variant to render), the read, to hand to `serve`. Rejects when Redis fails.
   */
  stored(req: AvatarRequest, cacheKey: string): Promise<StoredResult>;
  /**
   * The answer alone (no image), resolving it first if needed, with the same budgets and bounded wait as
   * `serve`: for the JSON info. `missing: 'error'` when Redis fails.
   */
  answer(req: AvatarRequest, context: ServeContext): Promise<Answer>;
}

/**
 * What a resolve wrote, as a read (in this process: the record and the default thumbnail; by a job: the record):
 * enough when the request needs no picture (a negative record, or the JSON info) or that thumbnail; undefined
 * when the request must read Redis after all.
 */
function producedRead({ record, thumbnail }: Resolved, wanted: VariantName | undefined): AvatarRead | undefined {
  if (record.status !== 'ok' || !wanted) return { meta: record, failed: false };
  if (thumbnail && thumbnail.size === wanted.size && thumbnail.format === wanted.format) return { meta: record, variant: thumbnail.bytes, failed: false };
  return undefined;
}

/** What there is to show when a wait for work ended without its result. */
const missingAfter = (outcome: RenderOutcome | ResolveOutcome): 'pending' | 'error' => (outcome === 'failed' ? 'error' : 'pending');

/** An answer, or why there is none to show yet (`rate-limited` carries its Retry-After). */
export type Answer =
  | { meta: ServedRecord; read: AvatarRead; cache: CacheState }
  | { missing: 'pending' | 'error' | 'rate-limited'; cache: CacheState; retryAfter?: number };


export function createAvatarService({ store, memory, ensure, placeholders, limits, recent, metrics, logger, clock, options }: AvatarServiceDeps): AvatarService {
  // One background refresh per stale answer per process (keyed by the answer's version, so the next stale
  // answer refreshes again); BullMQ's deduplication id dedupes across processes.
  const refreshing = new LRUCache<string, true>({ max: 10_000, ttl: 30_000 });

  const { wouldDraw, placeholder, unresolved, rateLimited } = createPlaceholderResponses(placeholders, limits.render, options.staticHeaders);
  const admitted = createAdmission(limits);

  /** The answer's placeholder; browsers may keep it no longer than the answer behind it is fresh. */
  async function negative(req: AvatarRequest, cacheKey: string, meta: ServedRecord, cache: CacheState, clientIp: string | undefined): Promise<AvatarResponse> {
    const response = await placeholder(req, meta.status, cache, answerCacheControl(meta, clock(), options, req.exp), clientIp);
    if (meta.freshUntil > clock() && response.statusCode !== 429) memory.remember(cacheKey, req.chatId, response, meta);
    return response;
  }

  const unavailable = (req: AvatarRequest, err: Error, log: Logger = logger) => log.warn({ chatId: req.chatId, err: err.message }, 'avatar lookup failed');

  /** Redis down or unreachable: never a 500 or a hung request for an <img>. */
  function failed(req: AvatarRequest, err: Error, log?: Logger): Promise<AvatarResponse> {
    unavailable(req, err, log);
    return unresolved(req, 'error', 'MISS', undefined);
  }

  function refreshInBackground(chatId: string, meta: ServedRecord, log: Logger): void {
    const version = `${chatId} ${meta.resolvedAt}`;
    if (refreshing.has(version)) return;
    refreshing.set(version, true);
    ensure.refresh(chatId).catch((err: Error) => {
      refreshing.delete(version);
      log.warn({ chatId, err: err.message }, 'could not enqueue refresh');
    });
  }

  /**
   * The answer for a request's chatId: from Redis, or after starting (or joining) a resolve and waiting for it
   * (bounded by MISS_WAIT_MS, counted against the client's lookup budget). A stale answer is returned at once
   * while one refresh runs in the background.
   */
  async function answerFor(
    req: AvatarRequest,
    { clientIp, log = logger, read: prior }: ServeContext,
    waitLeft: () => number,
    wanted?: VariantName,
  ): Promise<Answer> {
    let cache: CacheState = 'HIT';
    let read = prior ?? (await store.read(req.chatId, wanted));
    if (!read.meta && read.failed) return { missing: 'error', cache: 'MISS' };
    if (!read.meta) {
      cache = 'MISS';
      const { retryAfter, outcome } = await admitted('miss', req.chatId, ensure.isResolving(req.chatId), clientIp, () =>
        ensure.resolve(req.chatId, waitLeft()),
      );
      // What the resolve wrote, when that is all the request needs. Else (a picture it did not render, a wait
      // that ended without it, or refused: a refused request may have come just as the work it would join
      // finished) read again.
      read = (typeof outcome === 'object' && producedRead(outcome, wanted)) || (await store.read(req.chatId, wanted));
      if (!read.meta) return outcome ? { missing: missingAfter(outcome), cache } : { missing: 'rate-limited', cache, retryAfter };
    }
    if (read.meta.freshUntil <= clock()) {
      cache = 'STALE';
      refreshInBackground(req.chatId, read.meta, log);
    }
    return { meta: read.meta, read, cache };
  }

  /** What is left of MISS_WAIT_MS from now on: waiting is bounded in real time, whatever clock freshness is read by. */
  function waitBudget(): () => number {
    const deadline = Date.now() + options.missWaitMs;
    return () => Math.max(0, deadline - Date.now());
  }

  async function lookup(req: AvatarRequest, context: ServeContext): Promise<AvatarResponse> {
    const waitLeft = waitBudget();
    const { clientIp, cacheKey } = context;
    const wanted = { size: req.size, format: req.format };
    const answer = await answerFor(req, context, waitLeft, wanted);
    if ('missing' in answer) {
      if (answer.missing === 'rate-limited') return rateLimited(req, 'miss', answer.retryAfter!);
      return unresolved(req, answer.missing, answer.cache, clientIp);
    }
    const { meta, read } = answer;
    let { cache } = answer;
    if (meta.status !== 'ok') return negative(req, cacheKey, meta, cache, clientIp);

    let variant = read.variant;
    if (!variant) {
      if (cache === 'HIT') cache = 'MISS';
      const job = { chatId: req.chatId, hash: meta.hash, size: req.size, format: req.format };
      const { retryAfter, outcome } = await admitted('render', renderKey(job), ensure.isRendering(job), clientIp, () => ensure.render(job, waitLeft()));
      // Rendered here: the bytes just stored; else whatever the render job (or another process) stored.
      variant = typeof outcome === 'object' ? outcome.bytes : (await store.read(req.chatId, wanted)).variant;
      if (!variant) return outcome ? unresolved(req, missingAfter(outcome), cache, clientIp) : rateLimited(req, 'render', retryAfter);
    }

    return avatarResponse(req, cacheKey, meta, variant, cache);
  }

  /** The avatar itself; a fresh one is kept in memory. */
  function avatarResponse(req: AvatarRequest, cacheKey: string, meta: ServedRecord, variant: Buffer, cache: CacheState): AvatarResponse {
    const etag = avatarEtag(meta.hash, req.size, req.format);
    const response = imageResponse(req, variant, etag, 'ok', cache, answerCacheControl(meta, clock(), options, req.exp), options.staticHeaders);
    if (meta.freshUntil > clock()) memory.remember(cacheKey, req.chatId, response, meta);
    return response;
  }

  return {
    cached(cacheKey) {
      const hit = memory.get(cacheKey);
      if (hit) recent?.touch(hit.chatId);
      return hit;
    },

    async stored(req, cacheKey) {
      const read = await store.read(req.chatId, { size: req.size, format: req.format });
      const { meta, variant } = read;
      if (!meta || meta.freshUntil <= clock() || (meta.status === 'ok' && !variant)) return { read };
      recent?.touch(req.chatId);
      // Initials to draw are work with a budget: the request goes on with its client's address (serve).
      if (meta.status !== 'ok') return wouldDraw(req) ? { read } : { response: await negative(req, cacheKey, meta, 'HIT', undefined) };
      return { response: avatarResponse(req, cacheKey, meta, variant!, 'HIT') };
    },

    async answer(req, context) {
      try {
        return await answerFor(req, context, waitBudget());
      } catch (err) {
        if (err instanceof AppError) throw err;
        unavailable(req, err as Error, context.log);
        return { missing: 'error', cache: 'MISS' };
      }
    },

    async serve(req, context) {
      if (context.failure) return failed(req, context.failure, context.log);
      // A request handed on with its Redis read has missed this memory already, a moment ago.
      const hit = context.read ? undefined : this.cached(context.cacheKey);
      if (hit) {
        metrics.avatarLookups.inc({ result: 'hit' });
        return hit;
      }
      try {
        const response = await lookup(req, context);
        metrics.avatarLookups.inc({ result: response.headers['x-cache']!.toLowerCase() });
        // A request refused by a limit is not a view: a flood must not push real avatars out of keep-fresh.
        if (response.statusCode !== 429) recent?.touch(req.chatId);
        return response;
      } catch (err) {
        if (err instanceof AppError) throw err;
        return failed(req, err as Error, context.log);
      }
    },
  };
}
