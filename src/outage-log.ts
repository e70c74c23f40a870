import type { Logger } from './logger';

/** How often a part that stays down is mentioned again. */
export const OUTAGE_REPEAT_MS = 30_000;

/** A connection error in words: what an operator reads in logs and /readyz, never a stack. */
export function reasonOf(err: Error): string {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    default:
      if (/NOAUTH|WRONGPASS/.test(err.message)) return 'authentication failed';
      if (/Connection is closed|Stream isn't writeable|enableOfflineQueue/.test(err.message)) return 'not connected';
      return code ?? err.message.split('\n')[0]!.slice(0, 120);
  }
}

export interface OutageLog {
  /** A part failed (a connection, a queue object): logged when Redis goes down for this process, then at most once per 30 s. */
  failed(part: string, err: Error): void;
  /** A connection works again: one line if Redis had been down. */
  recovered(part: string): void;
}

/**
 * Redis trouble logged as state changes of this process's Redis, whichever of its connections, queues or
 * workers noticed it: an outage is one line when it starts, at most one per 30 s while it lasts, one when it
 * ends. Not one per connection, nor one per reconnect attempt.
 */
export function createOutageLog(logger: Logger, now: () => number = Date.now): OutageLog {
  let down: { since: number; lastLogged: number; reason: string; repeats: number; parts: Set<string> } | undefined;
  return {
    failed(part, err) {
      const reason = reasonOf(err);
      const t = now();
      if (!down) {
        down = { since: t, lastLogged: t, reason, repeats: 0, parts: new Set([part]) };
        logger.warn({ part, reason }, `redis: unreachable (${reason})`);
        return;
      }
      down.parts.add(part);
      down.repeats++;
      if (reason === down.reason && t - down.lastLogged < OUTAGE_REPEAT_MS) return;
      logger.warn(
        { parts: [...down.parts], reason, downForSeconds: Math.round((t - down.since) / 1000), errorsSinceLastLine: down.repeats },
        `redis: still unreachable (${reason})`,
      );
      Object.assign(down, { lastLogged: t, reason, repeats: 0 });
    },
    recovered(part) {
      if (!down) return;
      logger.info({ part, downForSeconds: Math.round((now() - down.since) / 1000) }, 'redis: connected again');
      down = undefined;
    },
  };
}
