import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { InstanceClient } from './client';
import { GreenApiError } from './errors';

/** One log line and one metric sample per GetAvatar call: outcome and duration (never the token or URL). */
export function instrumentGreenApi(client: InstanceClient, logger: Logger, metrics: Metrics): InstanceClient {
  return {
    async getContacts() {
      const started = performance.now();
      const ms = () => Math.round(performance.now() - started);
      try {
        const ids = await client.getContacts();
        logger.info({ contacts: ids.length, ms: ms() }, 'GetContacts');
        return ids;
      } catch (err) {
        logger.warn({ outcome: err instanceof GreenApiError ? err.kind : 'error', err: (err as Error).message, ms: ms() }, 'GetContacts');
        throw err;
      }
    },
    async getAvatar(chatId) {
      const started = performance.now();
      const record = (outcome: string, extra: Record<string, unknown> = {}) => {
        const seconds = (performance.now() - started) / 1000;
        metrics.greenApiCalls.inc({ outcome });
        metrics.greenApiDuration.observe({ outcome }, seconds);
        logger.info({ chatId, outcome, ms: Math.round(seconds * 1000), ...extra }, 'GetAvatar');
      };
      try {
        const answer = await client.getAvatar(chatId);
        record(answer.kind);
        return answer;
      } catch (err) {
        const kind = err instanceof GreenApiError ? err.kind : 'error';
        record(kind, { status: (err as GreenApiError).status, err: (err as Error).message });
        throw err;
      }
    },
  };
}
