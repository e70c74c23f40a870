/**
 * Every Redis key the cache uses, under one prefix (BullMQ's keys live under the queue prefix). Keys that
 * are written together carry the same hash tag `{...}`, so on a Redis Cluster they share a slot: a batch's
 * record, ids and failures.
 */
export interface CacheKeys {
  /** The answer, its thumbnails, or a while after a resolve finally failed, a marker (see AvatarStore.markFailed). */
  meta(chatId: string): string;
  /** Held while a process resolves the chatId (a job or a request's in-place resolve): one GetAvatar at a time. */
  resolving(chatId: string): string;
  /** Set for the length of an upstream 429's pause: no resolve may call GetAvatar meanwhile. */
  resolvePause: string;
  /** A warm batch: its record, its chatIds (in order), and those whose resolve finally failed. */
  batch(batchId: string): string;
  batchIds(batchId: string): string;
  batchFailed(batchId: string): string;
  /** chatIds served recently (score: last time), for refresh-ahead. */
  recent: string;
  /** Requests per client IP in one minute that caused work of a kind (an upstream lookup, a render). */
  clientRate(kind: string, clientIp: string, minute: number): string;
  source(hash: string): string;
  /** What pages show before the picture: dominant colour, ThumbHash, blur-up placeholder, size. */
  info(hash: string): string;
  /** Pub/sub channel: a contact's record changed or was forgotten; every API process drops its copies. */
  recordChanges: string;
  /** An instance's circuit breaker (paused: why), its 466 report and its strikes. */
  breaker(idInstance: string): string;
  /** The `timestamp` of the last instance-state notification applied (an older one, retried late, is ignored). */
  instanceStateAt(idInstance: string): string;
  /** An instance's next GetAvatar call slot (SET NX PX for 1/rate second). */
  callSlot(idInstance: string): string;
  /** Change events: a capped Redis Stream read with XREAD/XRANGE. */
  events: string;
  /** The last durable record the retention job looked at: the next run goes on after it. */
  retentionCursor: string;
}

export function createKeys(prefix: string): CacheKeys {
  return {
    meta: (chatId) => `${prefix}:meta:{${chatId}}`,
    resolving: (chatId) => `${prefix}:resolving:{${chatId}}`,
    resolvePause: `${prefix}:resolve-paused`,
    batch: (batchId) => `${prefix}:batch:{${batchId}}`,
    batchIds: (batchId) => `${prefix}:batch:{${batchId}}:ids`,
    batchFailed: (batchId) => `${prefix}:batch:{${batchId}}:failed`,
    recent: `${prefix}:recent`,
    clientRate: (kind, clientIp, minute) => `${prefix}:rate:${kind}:${clientIp}:${minute}`,
    source: (hash) => `${prefix}:src:${hash}`,
    info: (hash) => `${prefix}:info:${hash}`,
    recordChanges: `${prefix}:record-changes`,
    breaker: (idInstance) => `${prefix}:breaker:${idInstance}`,
    callSlot: (idInstance) => `${prefix}:slot:${idInstance}`,
    instanceStateAt: (idInstance) => `${prefix}:instance-state-at:${idInstance}`,
    events: `${prefix}:events`,
    retentionCursor: `${prefix}:retention-cursor`,
  };
}
