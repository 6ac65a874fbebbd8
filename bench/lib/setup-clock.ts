/**
 * Where a suite's seconds go that are not measurement: set-up (starting servers, forking simulators, registering or
 * loading hosts, connecting tunnels) and teardown (stopping them). Helpers time themselves here; the runner reads and
 * resets it per suite.
 */
const spentMs = { setup: 0, teardown: 0 };

async function timed<T>(kind: keyof typeof spentMs, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    spentMs[kind] += performance.now() - t0;
  }
}

/** Runs `fn`, counting its wall time as set-up. */
export const timedSetup = <T>(fn: () => Promise<T>): Promise<T> => timed('setup', fn);

/** Runs `fn`, counting its wall time as teardown. */
export const timedTeardown = <T>(fn: () => Promise<T>): Promise<T> => timed('teardown', fn);

/** Set-up and teardown seconds counted since the last call. */
export function takeOverheadSeconds(): { setupSeconds: number; teardownSeconds: number } {
  const r = { setupSeconds: spentMs.setup / 1000, teardownSeconds: spentMs.teardown / 1000 };
  spentMs.setup = 0;
  spentMs.teardown = 0;
  return r;
}
