import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canExecute, notFound } from './containment.js';
import type { ContainedProcess, ContainedSpawnOptions, Containment, RunScope } from './containment.js';
import { signalGroup } from './process-group.js';
import { signalAll } from './proc-tree.js';

/**
 * The command that puts a process in its cgroup before it runs anything: the shell writes its own pid into
 * `cgroup.procs`, then execs the command in place (same pid), so no child of it can start outside the cgroup.
 */
const ENTER = 'echo $$ > "$1" || exit 125; shift; exec "$@"';
const POLL_MS = 20;
/** How long `close` waits for a killed cgroup to empty before it gives up on removing it. */
const EMPTY_WAIT_MS = 10_000;

/** Options of the cgroup containment. */
export interface CgroupContainmentOptions {
  /** Kill with freeze + SIGKILL of each pid even where `cgroup.kill` exists (kernels before 5.14 have only that). */
  freezeKill?: boolean;
  /**
   * A tag naming this daimon (from its state dir) in its runs' cgroup names, so that after a crash it can find and end
   * its own leftovers without touching another daimon's runs under the same parent.
   */
  owner?: string;
}

/**
 * Containment by cgroup v2: each run gets a cgroup under `parent` (the daimon's own, writable), and each process the
 * run spawns a cgroup of its own inside it. A process and everything it forks, setsid or double-forked, stays in its
 * cgroup; ending it is `cgroup.kill`. The kernel does the bookkeeping, so nothing can leave short of a process with
 * the rights to write to another cgroup's `cgroup.procs` (root in the host's cgroup namespace).
 */
export function createCgroupContainment(parent: string, options: CgroupContainmentOptions = {}): Containment {
  const killDir = (dir: string): void => killCgroup(dir, options.freezeKill ?? false);
  const prefix = options.owner === undefined ? 'okesu-' : `okesu-${options.owner}-`;
  return {
    kind: 'cgroup',
    where: parent,
    async reapLeftovers() {
      // Only names with this daimon's tag: without a tag there is no telling our leftovers from a live daimon's runs.
      if (options.owner === undefined) return 0;
      const left = subdirs(parent).filter((d) => d.startsWith(prefix)).map((d) => join(parent, d));
      for (const dir of left) if (isPopulated(dir)) killDir(dir);
      await Promise.all(left.map((dir) => untilEmpty(dir, EMPTY_WAIT_MS)));
      for (const dir of left) removeTree(dir);
      return left.length;
    },
    openRun(runId) {
      const dir = join(parent, `${prefix}${runId}-${randomBytes(3).toString('hex')}`);
      mkdirSync(dir);
      let next = 0;
      let closing: Promise<void> | undefined;
      const scope: RunScope = {
        spawn(file, args, opts) {
          if (closing) throw new Error('the run has ended: no more processes');
          if (!canExecute(file, opts.env, opts.cwd)) throw notFound(file);
          const sub = join(dir, `p${++next}`);
          mkdirSync(sub);
          return spawnInto(sub, file, args, opts, killDir);
        },
        close() {
          closing ??= (async () => {
            if (isPopulated(dir)) killDir(dir);
            await untilEmpty(dir, EMPTY_WAIT_MS);
            removeTree(dir);
          })();
          return closing;
        },
      };
      return scope;
    },
  };
}

function spawnInto(sub: string, file: string, args: readonly string[], opts: ContainedSpawnOptions, killDir: (dir: string) => void): ContainedProcess {
  const child = spawn('/bin/sh', ['-c', ENTER, 'okesu-cgroup-enter', join(sub, 'cgroup.procs'), file, ...args], {
    cwd: opts.cwd, env: opts.env, stdio: opts.stdio, detached: true,
  });
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  child.once('exit', () => {
    // The usual end: the process left nothing behind, so its cgroup goes now rather than with the run.
    if (!started && !isPopulated(sub)) tryRmdir(sub);
  });
  return {
    child,
    terminate() {
      if (started) return false;
      started = true;
      const pids = pidsIn(sub);
      const groupAlive = child.pid !== undefined && signalGroup(child.pid, 'SIGTERM');
      signalAll(pids, 'SIGTERM');
      if (pids.length === 0 && !groupAlive) {
        tryRmdir(sub);
        return false;
      }
      timer = setTimeout(() => {
        if (isPopulated(sub)) killDir(sub);
        void untilEmpty(sub, EMPTY_WAIT_MS).then(() => tryRmdir(sub));
      }, opts.killGraceMs);
      timer.unref();
      return true;
    },
  };
}

/** Every process in the cgroup `dir` and below it. */
function pidsIn(dir: string): number[] {
  const own = readOr(join(dir, 'cgroup.procs')).split('\n').filter((l) => l !== '').map(Number);
  return [...own, ...subdirs(dir).flatMap((d) => pidsIn(join(dir, d)))];
}

/** Kills every process in the cgroup and below: `cgroup.kill`, or (older kernels) freeze, SIGKILL each, thaw. */
function killCgroup(dir: string, freezeKill: boolean): void {
  const killFile = join(dir, 'cgroup.kill');
  if (!freezeKill && existsSync(killFile)) {
    writeOr(killFile, '1');
    return;
  }
  // Frozen, nothing in the cgroup can fork between listing the pids and killing them; SIGKILL still ends frozen tasks.
  writeOr(join(dir, 'cgroup.freeze'), '1');
  signalAll(pidsIn(dir), 'SIGKILL');
  writeOr(join(dir, 'cgroup.freeze'), '0');
}

function isPopulated(dir: string): boolean {
  return /^populated 1$/m.test(readOr(join(dir, 'cgroup.events')));
}

/** Resolves once the cgroup has no process left (or `maxMs` passed, or it is gone). */
async function untilEmpty(dir: string, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (isPopulated(dir) && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
}

function removeTree(dir: string): void {
  for (const d of subdirs(dir)) removeTree(join(dir, d));
  tryRmdir(dir);
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

function tryRmdir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // gone already, or still busy: the run's close removes it
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function writeOr(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch {
    // the cgroup is gone: nothing left to act on
  }
}
