import type { ChildProcess, StdioOptions } from 'node:child_process';
import type { Logger } from '../provider.js';
import { createExecutableResolver } from '../policy/resolve-executable.js';
import type { ChildEnv } from './child-env.js';

/** How a host keeps a run's processes together: a cgroup v2 per run, or a subreaper wrapper plus a /proc sweep. */
export type ContainmentKind = 'cgroup' | 'subreaper';

/** The containment of one daimon: chosen once at start, it opens one scope per run. */
export interface Containment {
  readonly kind: ContainmentKind;
  /** Where or how, for the start-up log (the cgroup runs are made under, or the wrapper used). */
  readonly where: string;
  /** Opens the scope of one run: every process spawned through it ends, at the latest, when it closes. */
  openRun(runId: string): RunScope;
  /**
   * Ends what runs of this daimon's previous life left (it was killed before it could close their scopes) and returns
   * how many scopes it removed. Absent where nothing can be left over (the subreaper wrapper dies with the daimon).
   */
  reapLeftovers?(): Promise<number>;
}

/** The processes of one run. */
export interface RunScope {
  /**
   * Starts `file args` inside the run's scope, in a scope of its own within it and its own process group. Throws
   * like `spawn` (an `ENOENT` error when `file` is not found on the environment's PATH).
   */
  spawn(file: string, args: readonly string[], options: ContainedSpawnOptions): ContainedProcess;
  /** Kills whatever of the run is still running (SIGKILL), waits until none of it is left and removes the scope. Idempotent. */
  close(): Promise<void>;
}

/** How to start a contained process. */
export interface ContainedSpawnOptions {
  cwd?: string;
  env: ChildEnv;
  stdio: StdioOptions;
  /** Time between SIGTERM and SIGKILL when it is terminated. */
  killGraceMs: number;
}

/** One process started in a run's scope, with everything it starts. */
export interface ContainedProcess {
  readonly child: ChildProcess;
  /**
   * Stops the process and every process it started (detached ones included): SIGTERM now, SIGKILL after the grace.
   * Returns false when nothing of it was left running. Idempotent: later calls return false.
   */
  terminate(): boolean;
}

/** An `ENOENT` error like spawn's, for a file that is not there to run. */
export function notFound(file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT', errno: -2, syscall: `spawn ${file}`, path: file });
}

/**
 * Whether `file` can be run with `env`'s PATH from `cwd`. The wrappers that put a process in its scope exec the
 * command themselves, so spawn's own ENOENT would come too late and as an exit code: look first.
 */
export function canExecute(file: string, env: ChildEnv, cwd = process.cwd()): boolean {
  return createExecutableResolver(env, cwd).find(file) !== undefined;
}

/** Logs the containment the daimon chose. */
export function logContainment(c: Containment, log: Logger): void {
  log.info({ containment: c.kind, where: c.where }, c.kind === 'cgroup' ? 'runs are contained in cgroups' : 'runs are contained by a subreaper wrapper and a process sweep');
}
