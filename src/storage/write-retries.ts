import type { Logger } from '../logger';

/** Durable writes that failed, tried again in the background while Redis serves what they hold. */
export interface WriteRetries {
  /** Tries `write` again later (a write under the same name replaces the one waiting). */
  later(name: string, write: () => Promise<void>): void;
  /** Stops the timer; what is still waiting is dropped (Redis keeps serving it; the next resolve writes it again). */
  close(): void;
}

export interface RetryOptions {
  /** Waits before each new try: the last one repeats until maxAgeMs. */
  delaysMs: number[];
  /** A write still failing after this long is given up (counted in the log line). */
  maxAgeMs: number;
  /** Writes waiting at most: past this the oldest is given up. */
  maxPending: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = { delaysMs: [1000, 5000, 30_000, 120_000], maxAgeMs: 3_600_000, maxPending: 10_000 };

export function createWriteRetries(logger: Logger, options: RetryOptions = DEFAULT_RETRY_OPTIONS): WriteRetries {
  const waiting = new Map<string, { write: () => Promise<void>; tries: number; firstAt: number; dueAt: number }>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let givenUp = 0;

  const delayAfter = (tries: number) => options.delaysMs[Math.min(tries, options.delaysMs.length - 1)]!;

  function schedule(): void {
    if (timer || waiting.size === 0) return;
    const next = Math.min(...[...waiting.values()].map((w) => w.dueAt));
    timer = setTimeout(run, Math.max(0, next - Date.now()));
    timer.unref();
  }

  async function run(): Promise<void> {
    timer = undefined;
    if (running) return;
    running = true;
    const now = Date.now();
    for (const [name, entry] of [...waiting]) {
      if (entry.dueAt > now) continue;
      try {
        await entry.write();
        waiting.delete(name);
      } catch {
        entry.tries++;
        if (now - entry.firstAt >= options.maxAgeMs) {
          waiting.delete(name);
          givenUp++;
        } else entry.dueAt = now + delayAfter(entry.tries);
      }
    }
    running = false;
    if (givenUp > 0) {
      logger.warn({ givenUp, waiting: waiting.size }, 'storage: gave up durable writes that kept failing (Redis still serves them; the next resolve writes them again)');
      givenUp = 0;
    }
    schedule();
  }

  return {
    later(name, write) {
      const now = Date.now();
      const previous = waiting.get(name);
      waiting.delete(name);
      if (waiting.size >= options.maxPending) {
        waiting.delete(waiting.keys().next().value!);
        givenUp++;
      }
      waiting.set(name, { write, tries: previous?.tries ?? 0, firstAt: previous?.firstAt ?? now, dueAt: now + delayAfter(previous?.tries ?? 0) });
      schedule();
    },
    close() {
      clearTimeout(timer);
      timer = undefined;
      waiting.clear();
    },
  };
}
