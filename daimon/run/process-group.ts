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

/**
 * Stops a process group: SIGTERM now, SIGKILL after `graceMs` if any member is still alive.
 * Idempotent per returned handle; the escalation timer does not keep the process alive.
 */
export function createGroupTerminator(pid: number, graceMs: number): { terminate(): boolean } {
  let started = false;
  return {
    terminate(): boolean {
      if (started) return false;
      started = true;
      if (!signalGroup(pid, 'SIGTERM')) return false;
      setTimeout(() => {
        if (signalGroup(pid, 0)) signalGroup(pid, 'SIGKILL');
      }, graceMs).unref();
      return true;
    },
  };
}
