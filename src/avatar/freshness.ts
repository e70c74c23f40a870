import type { RecordStatus } from './store';

/** How long an answer is fresh: from a base lifetime, doubling while refreshes find it unchanged, up to a maximum. */
export interface Lifetimes {
  baseSeconds: number;
  maxSeconds: number;
}

export interface FreshnessPolicy {
  avatar: Lifetimes;
  /** no-avatar, private, not-on-whatsapp. */
  negative: Lifetimes;
}

/** What decides whether an answer changed: its status and, for a picture, its content hash. */
export interface AnswerIdentity {
  status: RecordStatus;
  hash: string;
}

export const sameAnswer = (previous: AnswerIdentity | undefined, next: AnswerIdentity): boolean =>
  previous !== undefined && previous.status === next.status && previous.hash === next.hash;

export const lifetimesFor = (policy: FreshnessPolicy, status: RecordStatus): Lifetimes =>
  status === 'ok' ? policy.avatar : policy.negative;

/**
 * The next answer's lifetime in seconds: twice the lifetime of the same answer before it (capped at the
 * maximum), the base lifetime for a new or changed one (`unchangedFrom` undefined). A change is so shown
 * within the maximum.
 */
export function nextLifetime(policy: FreshnessPolicy, unchangedFrom: { lifetime: number } | undefined, status: RecordStatus): number {
  const { baseSeconds, maxSeconds } = lifetimesFor(policy, status);
  if (!unchangedFrom) return baseSeconds;
  return Math.min(maxSeconds, Math.max(baseSeconds, unchangedFrom.lifetime * 2));
}

/** Two links to the same picture: WhatsApp re-signs a link (new query) without changing its path. */
export function samePicturePath(a: string, b: string): boolean {
  const path = (url: string) => {
    try {
      const u = new URL(url);
      return `${u.origin}${u.pathname}`;
    } catch {
      return undefined;
    }
  };
  const pa = path(a);
  return pa !== undefined && pa === path(b);
}

/** The policy from the configured lifetimes; a maximum below its base lifetime means no growth. */
export function freshnessPolicy(ttl: { avatarSeconds: number; avatarMaxSeconds: number; negativeSeconds: number; negativeMaxSeconds: number }): FreshnessPolicy {
  return {
    avatar: { baseSeconds: ttl.avatarSeconds, maxSeconds: Math.max(ttl.avatarSeconds, ttl.avatarMaxSeconds) },
    negative: { baseSeconds: ttl.negativeSeconds, maxSeconds: Math.max(ttl.negativeSeconds, ttl.negativeMaxSeconds) },
  };
}

/**
 * How long Redis keeps a record: a picture's as long as its images (IMAGE_TTL_SECONDS), so it can be served
 * stale; one without a picture long enough past its freshness for the next refresh to see that it did not change.
 */
export const recordKeepSeconds = (policy: FreshnessPolicy, imageSeconds: number, { status, lifetime }: { status: RecordStatus; lifetime: number }): number =>
  status === 'ok' ? imageSeconds : lifetime + lifetimesFor(policy, status).maxSeconds;
