/**
 * At most `size` sharp operations at once in this process. sharp runs on libuv's threadpool, which DNS
 * lookups, crypto and the request path's placeholders share: bounded renders cannot take every thread.
 */
export interface SharpSlots {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createSharpSlots(size: number): SharpSlots {
  let busy = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else busy--;
  };
  return {
    async run(work) {
      if (busy < size) busy++;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}
