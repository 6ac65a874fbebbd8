import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../../files/atomic-write.js';

/** How to start `okesu supervise` without an init system (`--init none`). */
export interface DetachedStart {
  command: string;
  args: readonly string[];
  /** stdout and stderr of the supervisor and its daimon (STATE/daimon.log, appended). */
  logFile: string;
  /** Where its pid is kept (STATE/supervise.pid). */
  pidFile: string;
  env: NodeJS.ProcessEnv;
}

/** Starts the supervisor in a session of its own (setsid), output to the log, and records its pid; returns the pid. */
export function startDetachedSupervisor(s: DetachedStart): number {
  const log = openSync(s.logFile, 'a', 0o600);
  try {
    const child = spawn(s.command, [...s.args], { detached: true, stdio: ['ignore', log, log], env: s.env });
    if (child.pid === undefined) throw new Error(`cannot start ${s.command}`);
    child.unref();
    writeFileAtomic(s.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** True when `pid` is a live process (a zombie nobody reaped yet is not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (comm) S …": the state follows the last parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) said it lives.
  }
}

/** The recorded supervisor's pid when it still runs and is an okesu supervisor (not a recycled pid), else undefined. */
export function runningSupervisor(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 1 || !processAlive(pid)) return undefined;
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('supervise')) return undefined;
  } catch {
    // no /proc: trust the pid file.
  }
  return pid;
}

/** True while a live (not zombie) process of the group `pgid` exists: the detached supervisor leads its own group, its daimon is in it. */
function groupAlive(pgid: number): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return false; // no /proc: the supervisor's own exit is all we can see.
  }
  return pids.some((p) => {
    try {
      // "pid (comm) state ppid pgrp …"
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return state !== 'Z' && Number(pgrp) === pgid;
    } catch {
      return false;
    }
  });
}

/**
 * Stops the recorded supervisor: SIGTERM (it stops its daimon), then SIGKILL to its whole process group after
 * `timeoutMs`; waits until the supervisor and its daimon are gone and removes the pid file. False when none ran.
 */
export async function stopDetachedSupervisor(pidFile: string, timeoutMs = 30_000): Promise<boolean> {
  const pid = runningSupervisor(pidFile);
  if (pid !== undefined) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    let killed = false;
    while (processAlive(pid) || groupAlive(pid)) {
      if (!killed && Date.now() > deadline) {
        killed = true;
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // the group is gone already.
        }
      }
      if (killed && Date.now() > deadline + 5000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  rmSync(pidFile, { force: true });
  return pid !== undefined;
}
