/**
 * Work the workers do in place for requests (new variants, misses), when the API runs in the same process:
 * each kind bounded, all of it given the shutdown time that jobs get.
 */
export interface InPlaceWork {
  /** `work`, at most `max` at once; beyond that 'queue', and the caller enqueues a job instead. */
  bounded<A, R>(max: number, work: (arg: A) => Promise<R>): (arg: A) => Promise<R | 'queue'>;
  /** Settles once everything started here has. */
  idle(): Promise<unknown>;
}

export function createInPlaceWork(): InPlaceWork {
  const running = new Set<Promise<unknown>>();
  return {
    bounded(max, work) {
      let inFlight = 0;
      return async (arg) => {
        if (inFlight >= max) return 'queue';
        inFlight++;
        const done = work(arg);
        running.add(done);
        try {
          return await done;
        } finally {
          inFlight--;
          running.delete(done);
        }
      };
    },
    idle: () => Promise.allSettled([...running]),
  };
}
