/** Time comes in as a dependency so jobs and rules can be tested with a fake clock. */
export interface Clock {
  now(): Date;
  /**
   * Resolves once `ms` have passed on this clock, or at once when `signal` aborts (the sleeper is
   * forgotten). Loops that wait between steps (the live tail) sleep on the clock they measure time
   * with, so a test moves both with one call.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export type FakeClock = Clock & {
  /** Moves time by `ms` (back when negative) and wakes every sleeper whose time has come. */
  advance(ms: number): void;
  set(d: Date | string): void;
  /** How many sleep() calls are waiting: a test waits for a loop to be asleep before moving time. */
  sleepers(): number;
};

/** A clock that moves only when told to; for tests. */
export function fakeClock(start: Date | string = '2026-01-01T00:00:00Z'): FakeClock {
  let t = new Date(start).getTime();
  let waiting: Array<{ at: number; wake: () => void }> = [];
  const wakeDue = () => {
    const due = waiting.filter((s) => s.at <= t);
    if (due.length === 0) return;
    waiting = waiting.filter((s) => s.at > t);
    for (const s of due.sort((a, b) => a.at - b.at)) s.wake();
  };
  return {
    now: () => new Date(t),
    sleep(ms, signal) {
      if (ms <= 0 || signal?.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const sleeper = {
          at: t + ms,
          wake: () => {
            signal?.removeEventListener('abort', abort);
            resolve();
          },
        };
        const abort = () => {
          waiting = waiting.filter((s) => s !== sleeper);
          resolve();
        };
        signal?.addEventListener('abort', abort, { once: true });
        waiting.push(sleeper);
      });
    },
    advance(ms: number) {
      t += ms;
      wakeDue();
    },
    set(d: Date | string) {
      t = new Date(d).getTime();
      wakeDue();
    },
    sleepers: () => waiting.length,
  };
}
