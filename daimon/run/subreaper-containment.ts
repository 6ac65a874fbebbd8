import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { canExecute, notFound } from './containment.js';
import type { ContainedProcess, Containment, RunScope } from './containment.js';
import { signalGroup } from './process-group.js';
import { descendantsOf, isRunning, pidsWithEnv, signalAll } from './proc-tree.js';
import { SUBREAPER_WRAPPER } from './subreaper-wrapper.js';

/** The environment variable marking every process of a run in the fallback containment. */
export const RUN_SCOPE_ENV = 'OKESU_RUN_SCOPE';
const POLL_MS = 20;
/** How long `close` keeps sweeping before it gives up on a process it cannot kill. */
const SWEEP_MAX_MS = 10_000;

/** Options of the subreaper containment. */
export interface SubreaperContainmentOptions {
  /** The perl interpreter (absolute path). */
  perl: string;
  /** prctl's syscall number on this architecture. */
  prctlNr: number;
}

/**
 * Containment without a writable cgroup: each process is started under a subreaper wrapper (see SUBREAPER_WRAPPER)
 * that outlives its command and ends everything below it, and every process carries `OKESU_RUN_SCOPE=<token>` in its
 * environment. A run ends by killing every process below its wrappers, then every process whose environment still
 * holds the run's token (one that escaped a wrapper killed from inside). What this cannot catch: a process that both
 * got out from under its wrapper (by killing the wrapper) and cleared or replaced its environment before the sweep.
 */
export function createSubreaperContainment(options: SubreaperContainmentOptions): Containment {
  return {
    kind: 'subreaper',
    where: options.perl,
    openRun() {
      // `<run token>.<n>`: the run's sweep matches the prefix, one process's the whole value.
      const token = randomBytes(12).toString('hex');
      const wrappers = new Set<number>();
      let next = 0;
      let closing: Promise<void> | undefined;
      return {
        spawn(file, args, opts) {
          if (closing) throw new Error('the run has ended: no more processes');
          if (!canExecute(file, opts.env, opts.cwd)) throw notFound(file);
          const marker = `${token}.${++next}`;
          const child = spawn(options.perl, ['-e', SUBREAPER_WRAPPER, String(options.prctlNr), String(opts.killGraceMs), String(process.pid), file, ...args], {
            cwd: opts.cwd, env: { ...opts.env, [RUN_SCOPE_ENV]: marker }, stdio: opts.stdio, detached: true,
          });
          const pid = child.pid;
          if (pid !== undefined) {
            wrappers.add(pid);
            child.once('exit', () => wrappers.delete(pid));
          }
          return contained(child, pid, marker, opts.killGraceMs);
        },
        close() {
          closing ??= sweep(wrappers, token);
          return closing;
        },
      } satisfies RunScope;
    },
  };
}

function contained(child: ContainedProcess['child'], pid: number | undefined, marker: string, graceMs: number): ContainedProcess {
  let started = false;
  const marked = (): number[] => pidsWithEnv(RUN_SCOPE_ENV, marker).filter((p) => p !== pid && isRunning(p));
  return {
    child,
    terminate() {
      if (started || pid === undefined) return false;
      started = true;
      // A wrapper that is still running has something below it to stop (it exits only once nothing is left); a
      // wrapper that is gone was killed from inside, and what it leaves is found by its marker.
      const wrapperUp = isRunning(pid);
      const strays = wrapperUp ? [] : marked();
      if (!wrapperUp && strays.length === 0) return false;
      signalGroup(pid, 'SIGTERM');
      signalAll(strays, 'SIGTERM');
      const backstop = setTimeout(() => {
        // Whatever is left by now ignored SIGTERM, or its wrapper was stopped or is stuck: end it from here.
        if (isRunning(pid)) signalAll(descendantsOf([pid]), 'SIGKILL');
        signalAll(marked(), 'SIGKILL');
        if (isRunning(pid)) signalAll([pid], 'SIGKILL');
      }, wrapperUp ? graceMs + 2000 : graceMs);
      backstop.unref();
      return true;
    },
  };
}

/** Kills every process below the run's wrappers and every process carrying its token, until none is left. */
async function sweep(wrappers: Set<number>, token: string): Promise<void> {
  const deadline = Date.now() + SWEEP_MAX_MS;
  for (;;) {
    const below = descendantsOf(wrappers);
    const marked = pidsWithEnv(RUN_SCOPE_ENV, `${token}.`, { prefix: true }).filter((p) => !wrappers.has(p) && isRunning(p));
    const live = [...below, ...marked].filter((p) => isRunning(p));
    if (live.length === 0 && wrappers.size === 0) return;
    signalAll(live, 'SIGKILL');
    // A wrapper whose command is killed reaps it and exits by itself; one that does not within the sweep is killed.
    if (Date.now() > deadline - SWEEP_MAX_MS / 2) signalAll(wrappers, 'SIGKILL');
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
