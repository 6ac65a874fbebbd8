/**
 * Sends `signal` to the process group led by `pid` (a child spawned with `detached: true`).
 * Returns false when the group no longer exists; signal 0 only checks that it does.
 */
export function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    // EPERM means the group exists but is not ours to signal: still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
