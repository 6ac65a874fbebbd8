import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownCgroupDir } from '../../../daimon/run/detect-containment.js';

/** A `sleep` duration no other process on the machine has: its argument finds the process in /proc. */
export function uniqueSleep(): string {
  return `${700 + (randomBytes(2).readUInt16BE() % 200)}.${randomBytes(3).readUIntBE(0, 3)}`;
}

/** Pids of live (not zombie) processes with `arg` as one of their arguments. */
export function processesWithArg(arg: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (!args.includes(arg)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (!/^\s*Z/.test(stat.slice(stat.lastIndexOf(')') + 1))) out.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return out;
}

/** A run id no other test uses (it names the run's cgroup). */
export function uniqueRunId(): string {
  return `r_test${randomBytes(6).toString('hex')}`;
}

/** The cgroups under this process's own whose names mention `runId` (none should outlive the run). */
export function cgroupsOf(runId: string): string[] {
  const own = ownCgroupDir();
  if (!own.ok) return [];
  return readdirSync(own.dir).filter((d) => d.includes(runId)).map((d) => join(own.dir, d));
}

/** The cgroup v2 path of `pid` (`0::` line). */
export function cgroupOfPid(pid: number): string {
  return /^0::(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1] ?? '';
}
