/** An opaque timer handle; only the clock that made it can clear it. */
export interface TimerHandle {
  readonly clockTimer: true;
}

/** Time and timers, injected so schedules can be tested without waiting. `now()` is epoch ms (wall clock). */
export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms` milliseconds (at once-ish for ms <= 0). */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; clearing a fired or cleared timer is a no-op. */
  clearTimer(handle: TimerHandle): void;
}

// setTimeout fires at once (with a warning) past 2^31-1 ms (~24.8 days); longer waits are chained.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

interface SystemTimer extends TimerHandle {
  timeout?: NodeJS.Timeout;
}

/** The real clock: `Date.now()` and Node timers, with waits longer than ~24.8 days chained. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const handle: SystemTimer = { clockTimer: true };
    const arm = (remaining: number): void => {
      const wait = Math.min(Math.max(0, remaining), MAX_TIMEOUT_MS);
      handle.timeout = setTimeout(() => (remaining > MAX_TIMEOUT_MS ? arm(remaining - MAX_TIMEOUT_MS) : fn()), wait);
    };
    arm(ms);
    return handle;
  },
  clearTimer(handle) {
    clearTimeout((handle as SystemTimer).timeout);
  },
};

interface ManualTimer extends TimerHandle {
  id: number;
  due: number;
  fn: () => void;
}

/** A clock that only moves when told to: for tests, and for replaying schedules. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): Promise<void>;
  /** Moves time forward to `t`, firing every timer due at or before it, in order of due time then creation. */
  advanceTo(t: number): Promise<void>;
  /** How many timers are set and not yet fired or cleared. */
  pendingTimers(): number;
}

/** Lets promise callbacks (and anything they chain) run before the clock moves on. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A manual clock starting at `start`. Timers never fire on their own: `advance`/`advanceTo` let promises
 * settle, then set `now` to the earliest due timer's time and call it, and so on; a timer set for
 * `ms <= 0` fires on the next advance, even `advance(0)`. A timer callback that throws rejects the advance.
 */
export function createManualClock(start: number): ManualClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, ManualTimer>();

  const earliestDue = (limit: number): ManualTimer | undefined => {
    let best: ManualTimer | undefined;
    for (const timer of timers.values()) {
      if (timer.due > limit) continue;
      if (!best || timer.due < best.due || (timer.due === best.due && timer.id < best.id)) best = timer;
    }
    return best;
  };

  const advanceTo = async (t: number): Promise<void> => {
    if (!Number.isFinite(t) || t < now) throw new RangeError(`manual clock: cannot move from ${now} to ${t}`);
    for (;;) {
      // Settle first: what the caller (or the last timer) set in motion runs before time moves on.
      await settle();
      const timer = earliestDue(t);
      if (!timer) break;
      timers.delete(timer.id);
      now = Math.max(now, timer.due);
      timer.fn();
    }
    now = t;
    await settle();
  };

  return {
    now: () => now,
    setTimer(fn, ms) {
      const timer: ManualTimer = { clockTimer: true, id: nextId++, due: now + Math.max(0, ms), fn };
      timers.set(timer.id, timer);
      return timer;
    },
    clearTimer(handle) {
      const { id } = handle as ManualTimer;
      if (timers.get(id) === handle) timers.delete(id);
    },
    advance: (ms) => advanceTo(now + ms),
    advanceTo,
    pendingTimers: () => timers.size,
  };
}
