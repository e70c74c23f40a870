/**
 * Every fixed lifetime of what the service keeps in Redis, in one table (as unavatar keeps its cache namespaces
 * and TTLs in one file). The configurable ones are in config.ts, one per variable:
 *  - a contact's record: AVATAR_TTL_SECONDS..AVATAR_MAX_TTL_SECONDS fresh (NEGATIVE_* for answers without a
 *    picture), kept IMAGE_TTL_SECONDS (a picture's, so it can be served stale) or its lifetime plus the maximum;
 *  - sources and pictures' info: IMAGE_TTL_SECONDS from their download;
 *  - a failed lookup's marker: FAILURE_BACKOFF_SECONDS; an instance's pause: AUTH_COOLDOWN_SECONDS,
 *    QUOTA_COOLDOWN_SECONDS; an upstream 429's pause: Retry-After within 1 s..MAX_UPSTREAM_PAUSE_SECONDS;
 *  - a resolve claim: JOB_LOCK_MS; memory copies: MEMORY_CACHE_TTL_MS at most, and never past their record.
 */
export const LIFETIMES = {
  /** A warm batch's record, ids and failures: progress is asked for within a day. */
  warmBatchSeconds: 86_400,
  /** A per-client budget's window (a minute, and a second for the window's edge). */
  clientRateWindowSeconds: 61,
  /** Unreadable 400s counted towards pausing an instance (STRIKES_TO_PAUSE within this). */
  breakerStrikeWindowSeconds: 60,
  /**
   * A pause from a `stateInstanceChanged` notification, until `authorized` arrives; if that notification is lost, a
   * day later one GetAvatar call probes the instance, as after a 401 (Green API retries a notification for 24 h).
   */
  instanceStatePauseSeconds: 86_400,
} as const;
