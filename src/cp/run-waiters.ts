/** Wakes long-polling readers of a run's events when new ones are stored. */
export function createRunWaiters(): RunWaiters {
  const waiters = new Map<string, Set<() => void>>();
  return {
    /** Resolves when `notify(runId)` is called or after `ms`, whichever comes first. */
    wait(runId: string, ms: number): Promise<void> {
      return new Promise((resolve) => {
        const set = waiters.get(runId) ?? new Set();
        waiters.set(runId, set);
        const done = (): void => {
          clearTimeout(timer);
          set.delete(done);
          if (set.size === 0) waiters.delete(runId);
          resolve();
        };
        const timer = setTimeout(done, ms);
        set.add(done);
      });
    },
    /** Wakes every reader waiting on the run. */
    notify(runId: string): void {
      for (const done of [...(waiters.get(runId) ?? [])]) done();
    },
    /** Releases every waiter (shutdown). */
    releaseAll(): void {
      for (const set of [...waiters.values()]) for (const done of [...set]) done();
    },
  };
}
/** Long-polling readers of a run's events (the run events route's `wait_ms`), woken when new events are stored. */
export interface RunWaiters {
  /** Resolves when `notify(runId)` is called or after `ms`, whichever comes first; never rejects. */
  wait(runId: string, ms: number): Promise<void>;
  /** Wakes every reader waiting on the run (its events were just committed). */
  notify(runId: string): void;
  /** Releases every waiter (shutdown). */
  releaseAll(): void;
}
