import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { reasonOf } from '../outage-log';
import type { BlobStore } from './blob-store';

/** The durable store's health as /readyz reports it: `ok`, or `failing (<reason>)` since its last operation failed. */
export interface StorageHealth {
  state(): string;
}

/**
 * A BlobStore whose operations are counted (avatar_storage_operations_total) and whose health is a state: the
 * first failure is one warning, the first success after it one info line, nothing in between (a store that is
 * down fails every operation).
 */
export function observeStore(store: BlobStore, metrics: Metrics, logger: Logger): BlobStore & StorageHealth {
  let failing: string | undefined;

  async function observed<T>(op: string, work: () => Promise<T>, outcomeOf: (result: T) => string = () => 'ok'): Promise<T> {
    try {
      const result = await work();
      metrics.storageOperations.inc({ op, outcome: outcomeOf(result) });
      if (failing !== undefined) {
        logger.info({ storage: store.location }, 'storage: working again');
        failing = undefined;
      }
      return result;
    } catch (err) {
      metrics.storageOperations.inc({ op, outcome: 'error' });
      const reason = reasonOf(err as Error);
      if (failing === undefined) logger.warn({ storage: store.location, op, reason }, `storage: failing (${reason}); serving from Redis meanwhile`);
      failing = reason;
      throw err;
    }
  }

  return {
    location: store.location,
    get: (name) => observed('get', () => store.get(name), (bytes) => (bytes ? 'ok' : 'missing')),
    has: (name) => observed('has', () => store.has(name), (found) => (found ? 'ok' : 'missing')),
    put: (name, bytes) => observed('put', () => store.put(name, bytes)),
    putNew: (name, bytes) => observed('put', () => store.putNew(name, bytes)),
    delete: (names) => observed('delete', () => store.delete(names)),
    list: (prefix, options) => observed('list', () => store.list(prefix, options)),
    check: () => store.check(),
    state: () => (failing === undefined ? 'ok' : `failing (${failing})`),
  };
}
