import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { createCgroupContainment } from './cgroup-containment.js';
import type { Containment, RunScope } from './containment.js';
import type { ContainmentMode } from './containment-modes.js';
import { createSubreaperContainment } from './subreaper-containment.js';
import { PRCTL_SYSCALL } from './subreaper-wrapper.js';


/** Where detection reads from (tests point it elsewhere). */
export interface DetectOptions {
  mode?: ContainmentMode;
  procSelf?: string;
  /** Tags this daimon's run cgroups (see `CgroupContainmentOptions.owner`); the daimon passes one made from its state dir. */
  owner?: string;
}

/**
 * Chooses this host's containment at daimon start: a cgroup v2 under the daimon's own cgroup when the daimon can
 * create one and move a process into it (probed for real), else the subreaper wrapper. Throws when the mode asked
 * for cannot be had, saying why.
 */
export function detectContainment(options: DetectOptions = {}): Containment {
  const mode = options.mode ?? 'auto';
  if (mode !== 'subreaper') {
    const cgroup = probeCgroup(options.procSelf ?? '/proc/self');
    if (cgroup.ok) return createCgroupContainment(cgroup.dir, { ...(options.owner !== undefined && { owner: options.owner }) });
    if (mode === 'cgroup') throw new Error(`cgroup containment is not available: ${cgroup.why}`);
  }
  const perl = ['/usr/bin/perl', '/bin/perl', '/usr/local/bin/perl'].find(isExecutable);
  const prctlNr = PRCTL_SYSCALL[process.arch];
  if (!perl) throw new Error('no writable cgroup v2 and no perl (perl-base) for the subreaper wrapper: cannot contain runs');
  if (prctlNr === undefined) throw new Error(`no writable cgroup v2, and prctl's syscall number on ${process.arch} is not known: cannot contain runs`);
  return createSubreaperContainment({ perl, prctlNr });
}

/** The cgroup v2 directory of this process, from `0::PATH` in its cgroup file and the cgroup2 mount in its mountinfo. */
export function ownCgroupDir(procSelf = '/proc/self'): { ok: true; dir: string } | { ok: false; why: string } {
  let cgroupFile: string;
  let mountinfo: string;
  try {
    cgroupFile = readFileSync(join(procSelf, 'cgroup'), 'utf8');
    mountinfo = readFileSync(join(procSelf, 'mountinfo'), 'utf8');
  } catch (err) {
    return { ok: false, why: `cannot read ${procSelf}: ${(err as Error).message}` };
  }
  const path = /^0::(\/.*)$/m.exec(cgroupFile)?.[1];
  if (path === undefined) return { ok: false, why: 'this process is in no cgroup v2 hierarchy' };
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mount-point options [optional…] - fstype source super-options
    const [left, right] = line.split(' - ');
    if (right?.split(' ')[0] !== 'cgroup2' || left === undefined) continue;
    const fields = left.split(' ');
    const root = unescapeMount(fields[3] ?? '/');
    const mountPoint = unescapeMount(fields[4] ?? '');
    const rel = posix.relative(root, path);
    if (rel.startsWith('..')) continue; // this mount does not show our cgroup
    return { ok: true, dir: join(mountPoint, rel) };
  }
  return { ok: false, why: 'no cgroup2 file system is mounted' };
}

function probeCgroup(procSelf: string): { ok: true; dir: string } | { ok: false; why: string } {
  const own = ownCgroupDir(procSelf);
  if (!own.ok) return own;
  const probe = join(own.dir, `okesu-probe-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    mkdirSync(probe);
  } catch (err) {
    return { ok: false, why: `cannot create a cgroup under ${own.dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  try {
    const entered = spawnSync('/bin/sh', ['-c', 'echo $$ > "$1"', 'okesu-probe', join(probe, 'cgroup.procs')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
    if (entered.status !== 0) return { ok: false, why: `cannot move a process into a cgroup under ${own.dir}: ${entered.stderr.toString().trim() || `exit ${entered.status}`}` };
    const hasKill = isReadable(join(probe, 'cgroup.kill')) || isReadable(join(probe, 'cgroup.freeze'));
    if (!hasKill) return { ok: false, why: 'the kernel has neither cgroup.kill nor cgroup.freeze' };
    return { ok: true, dir: own.dir };
  } finally {
    try {
      rmdirSync(probe);
    } catch {
      // the probe process may take a moment to leave; an empty cgroup left behind is harmless and named for what it is
    }
  }
}

/** mountinfo escapes spaces, tabs, newlines and backslashes as octal. */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isReadable(path: string): boolean {
  try {
    accessSync(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

let shared: Containment | undefined;

/** This process's containment, detected on first use (for runs started without a daimon: local runs, tests). */
export function sharedContainment(): Containment {
  shared ??= detectContainment();
  return shared;
}

/** The run's scope when the caller has one, else a scope of its own from the shared containment, closed by `release`. */
export function scopeOf(given: RunScope | undefined, label: string): { scope: RunScope; release(): Promise<void> } {
  if (given) return { scope: given, release: async () => {} };
  const scope = sharedContainment().openRun(label);
  return { scope, release: () => scope.close() };
}
