/** Time and timers for the CP's schedules (cron triggers), injectable so tests drive them. `now()` is epoch ms. */
export interface CpClock {
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for `clearTimer`. */
  setTimer(fn: () => void, ms: number): unknown;
  /** Cancels a timer; clearing a fired or cleared one is a no-op. */
  clearTimer(handle: unknown): void;
}

// setTimeout fires at once past 2^31-1 ms (~24.8 days); longer waits are chained.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The real clock: Date.now() and unref'd Node timers (a schedule never keeps the process alive). */
export const realClock: CpClock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const handle: { timeout?: NodeJS.Timeout } = {};
    const arm = (remaining: number): void => {
      const wait = Math.min(Math.max(0, remaining), MAX_TIMEOUT_MS);
      handle.timeout = setTimeout(() => (remaining > MAX_TIMEOUT_MS ? arm(remaining - MAX_TIMEOUT_MS) : fn()), wait);
      handle.timeout.unref();
    };
    arm(ms);
    return handle;
  },
  clearTimer(handle) {
    clearTimeout((handle as { timeout?: NodeJS.Timeout }).timeout);
  },
};
