/** The work a client's request can cause, each with a per-client budget. */
export type BudgetKind = 'miss' | 'render';

/** A per-client budget (security/client-limiter): 0 = go ahead, else seconds until the client may retry. */
export interface WorkBudget {
  take(clientIp: string): Promise<number>;
}

/**
 * Starts (or joins) work a request causes, counted against the client's budget of that kind unless it joins
 * work already in flight. `retryAfter` > 0: refused, nothing started.
 */
export type Admit = <T>(kind: BudgetKind, work: string, inFlight: boolean, clientIp: string, start: () => Promise<T>) => Promise<{ retryAfter: number; outcome?: T }>;

/**
 * Admission of work (a resolve, a render) in this process: an admission is kept until that work's wait ends, so a
 * request for the same work meanwhile joins it instead of being counted again.
 */
export function createAdmission(limits: Record<BudgetKind, WorkBudget>): Admit {
  const admissions = new Map<string, Promise<number>>();
  return async (kind, work, inFlight, clientIp, start) => {
    const key = `${kind} ${work}`;
    let admission = admissions.get(key);
    if (inFlight && !admission) return { retryAfter: 0, outcome: await start() };
    if (!admission) {
      admission = limits[kind].take(clientIp);
      admissions.set(key, admission);
    }
    try {
      const retryAfter = await admission;
      return retryAfter > 0 ? { retryAfter } : { retryAfter, outcome: await start() };
    } finally {
      if (admissions.get(key) === admission) admissions.delete(key);
    }
  };
}
