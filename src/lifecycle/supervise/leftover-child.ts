import { readFileSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import { SUPERVISOR_ENV, type LifecyclePaths } from '../../../daimon/lifecycle/state-layout.js';
import { readFileIfExists, writeFileAtomic } from '../../files/atomic-write.js';

/** Records the daimon the supervisor runs now (`STATE/daimon.pid`). */
export function recordChild(paths: LifecyclePaths, pid: number | undefined): void {
  if (pid === undefined) rmSync(paths.daimonPid, { force: true });
  else writeFileAtomic(paths.daimonPid, `${pid}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killQuietly(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false; // gone already, or (for a group) it had none of its own
  }
}

/**
 * True when `pid` is a supervised daimon of `stateDir`: its environment names a supervisor and its command line the
 * state directory. A recycled pid (any other process) fails this and is left alone. Linux /proc only.
 */
function isOurDaimon(pid: number, stateDir: string): boolean {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return environ.some((e) => e.startsWith(`${SUPERVISOR_ENV}=`)) && cmdline.includes(stateDir);
  } catch {
    return false;
  }
}

/**
 * Stops a daimon that an earlier supervisor of this state directory left running (it was killed outright, and its
 * child, in a process group of its own, lived on): two daimons on one state would share the spool and the identity.
 * SIGTERM, then SIGKILL after `graceMs`. Resolves when it is gone (or there was none).
 */
export async function stopLeftoverChild(paths: LifecyclePaths, stateDir: string, log: Logger, graceMs: number): Promise<void> {
  const pid = Number(readFileIfExists(paths.daimonPid)?.trim());
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid || !alive(pid) || !isOurDaimon(pid, stateDir)) return;
  log.warn({ pid }, 'a daimon of this state directory is still running (its supervisor was killed): stopping it first');
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid)) {
    if (Date.now() > deadline && !killQuietly(-pid)) killQuietly(pid);
    await new Promise((r) => setTimeout(r, 50));
  }
}
