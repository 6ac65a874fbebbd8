/** An opaque handle of a scheduled callback. */
export type TimerHandle = unknown;

/** The clock's scheduling half, injectable so tests can drive the client's periodic work by hand. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process's timers. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A repeating task that never overlaps itself: run, wait `interval()`, run again; `kick` runs it soon. */
export interface Periodic {
  start(): void;
  /** Runs the task `delayMs` from now (again if it is running), pushing back an earlier kick: a debounce. */
  kick(delayMs: number): void;
  stop(): void;
}

/**
 * A task run every `interval()` ms (read after each run, so it can follow the fleet's size). A run is never started
 * while the previous one is in flight: a tick or kick that falls during a run makes it run once more right after.
 * A task's failure is reported to `onError` and the schedule goes on.
 */
export function periodic(timers: Timers, task: () => Promise<void>, interval: () => number, onError: (err: unknown) => void): Periodic {
  let timer: TimerHandle | undefined;
  let kickTimer: TimerHandle | undefined;
  let running = false;
  let again = false;
  let stopped = true;

  const schedule = (ms: number): void => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = timers.setTimeout(() => {
      timer = undefined;
      fire();
    }, ms);
  };
  const fire = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    void task()
      .catch(onError)
      .finally(() => {
        running = false;
        if (stopped) return;
        if (again) {
          again = false;
          schedule(0);
        } else {
          schedule(interval());
        }
      });
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(interval());
    },
    kick(delayMs) {
      if (stopped) return;
      if (kickTimer !== undefined) timers.clearTimeout(kickTimer);
      kickTimer = timers.setTimeout(() => {
        kickTimer = undefined;
        fire();
      }, delayMs);
    },
    stop() {
      stopped = true;
      again = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      if (kickTimer !== undefined) timers.clearTimeout(kickTimer);
      timer = undefined;
      kickTimer = undefined;
    },
  };
}
