import type { RedisClient } from '../redis';
import { createKeys } from '../avatar/keys';
import type { Logger } from '../logger';
import type { InstanceBreaker } from './breaker';
import type { GreenApiClient, InstanceClient } from './client';
import { GreenApiError } from './errors';

export interface PooledInstance {
  idInstance: string;
  client: InstanceClient;
}

/** GetAvatar over the pool, and GetContacts of one instance; both take the instance's call slots and breaker. */
export interface GreenApiPool extends GreenApiClient {
  getContacts(idInstance: string): Promise<string[]>;
}

export interface PoolOptions {
  /** GetAvatar calls per second allowed for each instance. */
  ratePerSec: number;
  keyPrefix: string;
}

/**
 * Slots are 20% longer than 1/rate s: calls that reach the upstream up to 200 ms closer together than they
 * left (network jitter, a process stalled on a busy machine) still cannot put more calls into any second. At
 * 5%, a 50 ms stall on two loaded cores put a sixth call into a second at 5/s; at 10% (100 ms), one fresh-clone
 * test run in three did while other suites rendered on the same cores. The cost: at most 8.3 calls a second
 * per instance at Green API's 10, where 10% allowed 9.1.
 */
export const RATE_SLOT_MARGIN = 1.2;

/** Give up waiting for a free call slot after this long; the job retries later. */
const MAX_SLOT_WAIT_MS = 5000;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * GetAvatar over one or more Green API instances. Each call goes to the next instance (round robin) that
 *  - is not paused by its breaker (a 401/403, a 400 "not authorized", repeated unreadable 400s or a 466
 *    open it; no calls are made meanwhile), and
 *  - has a free call slot: one call per 1/rate second per instance, claimed in Redis (SET NX PX), so the
 *    limit holds across every worker process.
 * So N instances give N times the calls, and a broken instance does not stop the service.
 */
export function createInstancePool(
  instances: PooledInstance[],
  breaker: InstanceBreaker,
  redis: RedisClient,
  logger: Logger,
  { ratePerSec, keyPrefix }: PoolOptions,
): GreenApiPool {
  const slotMs = Math.max(1, Math.ceil((1000 / ratePerSec) * RATE_SLOT_MARGIN));
  const keys = createKeys(keyPrefix);
  let next = 0;

  /** 0 when the instance's slot was claimed, else ms until it frees. */
  async function claimSlot(idInstance: string): Promise<number> {
    const key = keys.callSlot(idInstance);
    if ((await redis.set(key, '1', 'PX', slotMs, 'NX')) === 'OK') return 0;
    return Math.max(1, await redis.pttl(key));
  }

  async function pick(deadline: number, candidates: PooledInstance[]): Promise<PooledInstance> {
    for (;;) {
      const start = next++ % candidates.length;
      let soonest = Infinity;
      let paused: GreenApiError | undefined;
      for (let i = 0; i < candidates.length; i++) {
        const instance = candidates[(start + i) % candidates.length]!;
        // One round trip for both: a slot claimed on a paused instance is simply not used.
        const [state, waitMs] = await Promise.all([breaker.state(instance.idInstance), claimSlot(instance.idInstance)]);
        if (state !== 'ok') {
          paused ??= new GreenApiError(state, `instance ${instance.idInstance} is paused (${state}); no GetAvatar call made`);
          continue;
        }
        if (waitMs === 0) return instance;
        soonest = Math.min(soonest, waitMs);
      }
      if (soonest === Infinity) throw paused!;
      if (Date.now() + soonest > deadline) throw new GreenApiError('rate-limited', 'no GetAvatar call slot free', undefined, soonest);
      await wait(soonest);
    }
  }

  // This process's callers wait for a slot one at a time, first come first served. Many waiters polling Redis
  // together woke together, and the winner's call left behind the others' polls: late enough, under load, to
  // put a sixth call into a second at 5/s.
  let line: Promise<unknown> = Promise.resolve();
  function inTurn(candidates = instances): Promise<PooledInstance> {
    const deadline = Date.now() + MAX_SLOT_WAIT_MS;
    const turn = line.then(() => pick(deadline, candidates));
    line = turn.catch(() => undefined);
    return turn;
  }

  /** A refused instance or plan pauses at once; a 400 we cannot classify only when it keeps coming. */
  async function pauseIfBroken(idInstance: string, err: GreenApiError): Promise<void> {
    let state: 'unauthorized' | 'quota';
    if (err.kind === 'unauthorized' || err.kind === 'quota') state = err.kind;
    else if (err.kind === 'rejected' && err.status === 400 && (await breaker.strike(idInstance))) state = 'unauthorized';
    else return;
    await breaker.open(idInstance, state, { quota: err.quota });
    logger.error({ idInstance, status: err.status, err: err.message, quota: err.quota }, `Green API instance ${idInstance} paused: ${state}`);
  }

  /** One call on an instance that has a slot, with its refusals pausing it. */
  async function callOn<T>(candidates: PooledInstance[], work: (client: InstanceClient) => Promise<T>): Promise<T> {
    const instance = await inTurn(candidates);
    try {
      return await work(instance.client);
    } catch (err) {
      if (err instanceof GreenApiError) await pauseIfBroken(instance.idInstance, err);
      throw err;
    }
  }

  return {
    getAvatar: (chatId) => callOn(instances, (client) => client.getAvatar(chatId)),
    getContacts(idInstance) {
      const instance = instances.find((i) => i.idInstance === idInstance);
      if (!instance) return Promise.reject(new GreenApiError('rejected', `instance ${idInstance} is not configured`));
      return callOn([instance], (client) => client.getContacts());
    },
  };
}
