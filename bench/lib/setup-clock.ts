/**
 * Where a suite's seconds go that are not measurement: starting servers, forking simulators, registering or loading
 * hosts, connecting tunnels. Set-up helpers time themselves here; the runner reads and resets it per suite.
 */
let spentMs = 0;

/** Runs `fn`, counting its wall time as set-up. */
export async function timedSetup<T>(fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    spentMs += performance.now() - t0;
  }
}

/** Set-up seconds counted since the last call. */
export function takeSetupSeconds(): number {
  const s = spentMs / 1000;
  spentMs = 0;
  return s;
}
