import { readdirSync, readFileSync } from 'node:fs';

// Everything here reads /proc synchronously: a few hundred small reads, done only when a run's processes are ended.

/** Every live pid with its parent pid, from /proc/<pid>/stat. */
export function parentsByPid(procRoot = '/proc'): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of safeList(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const stat = safeRead(`${procRoot}/${name}/stat`);
    // The command name (in parentheses) may itself contain ") ": the fields after the last one are reliable.
    const m = stat === undefined ? null : /\)\s+\S+\s+(\d+)/.exec(stat.slice(stat.lastIndexOf(')')));
    if (m) parents.set(Number(name), Number(m[1]));
  }
  return parents;
}

/** The pids below `roots` in the process tree (not the roots themselves), from one snapshot. */
export function descendantsOf(roots: Iterable<number>, parents = parentsByPid()): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [...roots];
  const seen = new Set(queue);
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** The pids (other than this process) whose environment holds `NAME=value` exactly, or `NAME=value…` with `prefix`. */
export function pidsWithEnv(name: string, value: string, options: { prefix?: boolean; procRoot?: string } = {}): number[] {
  const procRoot = options.procRoot ?? '/proc';
  const needle = Buffer.from(`${name}=${value}${options.prefix ? '' : '\0'}`);
  const out: number[] = [];
  for (const entry of safeList(procRoot)) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`${procRoot}/${entry}/environ`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (environ.subarray(0, needle.length).equals(needle) || environ.includes(Buffer.concat([Buffer.from([0]), needle]))) out.push(Number(entry));
  }
  return out;
}

/** Sends `signal` to each pid, ignoring those already gone. */
export function signalAll(pids: Iterable<number>, signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // ESRCH: already gone
    }
  }
}

/** True while `pid` exists and is not a zombie. */
export function isRunning(pid: number, procRoot = '/proc'): boolean {
  const stat = safeRead(`${procRoot}/${pid}/stat`);
  return stat !== undefined && !/^\s*Z/.test(stat.slice(stat.lastIndexOf(')') + 1));
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
