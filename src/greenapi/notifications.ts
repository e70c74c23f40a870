import { parseChatId } from '../avatar/chat-id';
import { badRequest } from '../errors';
import { LIFETIMES } from '../lifetimes';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { WarmLookups } from '../warm/warm-lookups';
import type { InstanceBreaker } from './breaker';
import { quotaLimit } from './client';
import type { QuotaReport } from './errors';

/**
 * Green API's webhook notifications as warming signals (POST /v1/greenapi/webhook): a message names the people
 * who are chatting (warm their avatars before anyone looks), `stateInstanceChanged` and `quotaExceeded` say
 * whether an instance can take calls. Nothing here calls Green API: lookups are queued, pauses are one write.
 */

/** One array of notifications at most this long (an app forwarding a backlog). */
const MAX_NOTIFICATIONS = 1000;

export interface Notification {
  typeWebhook: string;
  [field: string]: unknown;
}

type NotificationOutcome = 'queued' | 'fresh' | 'dropped' | 'paused' | 'resumed' | 'ignored';

/** What one delivery caused, per lookup. */
export interface NotificationSummary {
  received: number;
  queued: number;
  fresh: number;
  dropped: number;
  ignored: number;
}

/** The types whose name becomes a metric label; any other is counted as `other` (labels stay bounded). */
const KNOWN_TYPES = new Set([
  'incomingMessageReceived', 'outgoingMessageReceived', 'outgoingAPIMessageReceived', 'outgoingMessageStatus',
  'stateInstanceChanged', 'statusInstanceChanged', 'quotaExceeded', 'incomingCall', 'incomingBlock', 'deviceInfo',
]);
const PAUSING_STATES = new Set(['notAuthorized', 'blocked', 'sleepMode', 'starting', 'yellowCard']);

/** One notification object as Green API sends it, or an array of up to MAX_NOTIFICATIONS as an app forwards them. */
export function parseNotifications(body: unknown): Notification[] {
  const list = Array.isArray(body) ? body : [body];
  if (body === null || typeof body !== 'object') throw badRequest('invalid_body', 'send one notification object, or an array of them');
  if (list.length > MAX_NOTIFICATIONS) throw badRequest('too_many_notifications', `at most ${MAX_NOTIFICATIONS} notifications per request (got ${list.length})`);
  list.forEach((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item) || typeof (item as Notification).typeWebhook !== 'string') {
      throw badRequest('invalid_notification', `notification ${i} is not an object with a typeWebhook`);
    }
  });
  return list as Notification[];
}

const field = (value: unknown, name: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;

/** The chatIds a message notification names: the chat and the sender (for a group, the group and the participant). */
function chatIdsOf(notification: Notification): string[] | undefined {
  const sender = notification.senderData;
  if (typeof sender !== 'object' || sender === null) return undefined;
  const ids = [field(sender, 'chatId'), field(sender, 'sender')].flatMap((id) => (typeof id === 'string' ? [parseChatId(id)] : []));
  return [...new Set(ids.filter((id): id is string => id !== undefined))];
}

/** What a `quotaExceeded` says, in the shape an HTTP 466 gives. */
function quotaOf(notification: Notification): QuotaReport {
  const data = notification.quotaData ?? notification.stateInstance;
  const limit = quotaLimit(data, []);
  return limit?.method === 'correspondents' ? { correspondents: limit } : { invoke: limit };
}

export interface NotificationDeps {
  lookups: WarmLookups;
  breaker: InstanceBreaker;
  /** The configured instances: notifications of any other are ignored. */
  idInstances: string[];
  /** MAX_WARM_BACKLOG: warm lookups beyond it are dropped (and counted), never queued. */
  maxWarmBacklog: number;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
}

export function createNotificationHandler({ lookups, breaker, idInstances, maxWarmBacklog, logger, metrics, now }: NotificationDeps) {
  const configured = new Set(idInstances);

  /**
   * Green API repeats a notification it could not deliver for a day: a `notAuthorized` retried after the
   * `authorized` that followed it must not pause the instance again. Notifications without a time are applied.
   */
  async function isLatest(notification: Notification, idInstance: string): Promise<boolean> {
    const at = Number(notification.timestamp);
    return !Number.isFinite(at) || (await breaker.stateAsOf(idInstance, at));
  }
  const count = (notification: Notification, outcome: NotificationOutcome) =>
    metrics.greenApiNotifications.inc({ type: KNOWN_TYPES.has(notification.typeWebhook) ? notification.typeWebhook : 'other', outcome });

  /** A configured instance's id, as the notification names it (Green API sends a number). */
  function instanceOf(notification: Notification): string | undefined {
    const id = field(notification.instanceData, 'idInstance');
    const text = typeof id === 'number' || typeof id === 'string' ? String(id) : '';
    return configured.has(text) ? text : undefined;
  }

  async function applyState(notification: Notification, idInstance: string): Promise<NotificationOutcome> {
    const state = notification.stateInstance;
    if (!(await isLatest(notification, idInstance))) return 'ignored';
    if (state === 'authorized') {
      if (!(await breaker.lift(idInstance, 'unauthorized'))) return 'ignored';
      logger.info({ idInstance, stateInstance: state }, `Green API instance ${idInstance} authorized again: calls resume`);
      return 'resumed';
    }
    if (typeof state !== 'string' || !PAUSING_STATES.has(state)) return 'ignored';
    await breaker.open(idInstance, 'unauthorized', { seconds: LIFETIMES.instanceStatePauseSeconds });
    logger.error({ idInstance, stateInstance: state }, `Green API instance ${idInstance} paused: unauthorized (stateInstanceChanged: ${state})`);
    return 'paused';
  }

  async function applyQuota(notification: Notification, idInstance: string): Promise<NotificationOutcome> {
    const quota = quotaOf(notification);
    await breaker.open(idInstance, 'quota', { quota });
    logger.error({ idInstance, quota }, `Green API instance ${idInstance} paused: quota (quotaExceeded)`);
    return 'paused';
  }

  /** Queues what fits in the warm backlog; the rest is dropped. */
  async function warm(chatIds: string[]): Promise<{ queued: Set<string>; fresh: Set<string> }> {
    const stale = await lookups.stale(chatIds, false, now());
    const room = maxWarmBacklog > 0 && stale.length > 0 ? Math.max(0, maxWarmBacklog - (await lookups.waiting())) : stale.length;
    const queued = stale.slice(0, room);
    await lookups.enqueue(queued, false);
    const staleSet = new Set(stale);
    return { queued: new Set(queued), fresh: new Set(chatIds.filter((id) => !staleSet.has(id))) };
  }

  return async function handle(notifications: Notification[]): Promise<NotificationSummary> {
    const summary: NotificationSummary = { received: notifications.length, queued: 0, fresh: 0, dropped: 0, ignored: 0 };
    const named = notifications.map(chatIdsOf);
    const everyone = [...new Set(named.flatMap((ids) => ids ?? []))];
    const { queued, fresh } = everyone.length > 0 ? await warm(everyone) : { queued: new Set<string>(), fresh: new Set<string>() };
    for (const id of everyone) {
      if (queued.has(id)) summary.queued++;
      else if (fresh.has(id)) summary.fresh++;
      else summary.dropped++;
    }
    for (const [i, notification] of notifications.entries()) {
      const ids = named[i];
      const idInstance = instanceOf(notification);
      let outcome: NotificationOutcome = 'ignored';
      if (ids && ids.length > 0) {
        outcome = ids.some((id) => queued.has(id)) ? 'queued' : ids.every((id) => fresh.has(id)) ? 'fresh' : 'dropped';
      } else if (idInstance && notification.typeWebhook === 'stateInstanceChanged') {
        outcome = await applyState(notification, idInstance);
      } else if (idInstance && notification.typeWebhook === 'quotaExceeded') {
        outcome = await applyQuota(notification, idInstance);
      }
      if (outcome === 'ignored') summary.ignored++;
      count(notification, outcome);
    }
    return summary;
  };
}

export type NotificationHandler = ReturnType<typeof createNotificationHandler>;
