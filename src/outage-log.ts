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
  /** A part failed (a connection, a queue object): logged when it goes down, then at most once per 30 s. */
  failed(part: string, err: Error): void;
  /** The part works again: one line if it had been down. */
  recovered(part: string): void;
}

/** Redis trouble logged as state changes, so an outage is a few JSON lines, not one per reconnect attempt. */
export function createOutageLog(logger: Logger, now: () => number = Date.now): OutageLog {
  const down = new Map<string, { since: number; lastLogged: number; reason: string; repeats: number }>();
  return {
    failed(part, err) {
      const reason = reasonOf(err);
      const state = down.get(part);
      const t = now();
      if (!state) {
        down.set(part, { since: t, lastLogged: t, reason, repeats: 0 });
        logger.warn({ part, reason }, `${part}: unreachable (${reason})`);
        return;
      }
      state.repeats++;
      if (reason === state.reason && t - state.lastLogged < OUTAGE_REPEAT_MS) return;
      logger.warn({ part, reason, downForSeconds: Math.round((t - state.since) / 1000), errorsSinceLastLine: state.repeats }, `${part}: still unreachable (${reason})`);
      Object.assign(state, { lastLogged: t, reason, repeats: 0 });
    },
    recovered(part) {
      const state = down.get(part);
      if (!state) return;
      down.delete(part);
      logger.info({ part, downForSeconds: Math.round((now() - state.since) / 1000) }, `${part}: connected again`);
    },
  };
}
