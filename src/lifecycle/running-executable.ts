import { createRequire } from 'node:module';

/** How to start this okesu again, and the file that is "the okesu executable" (what install copies, what an upgrade replaces). */
export interface RunningExecutable {
  /** The single executable, or the bundle script run by node. */
  file: string;
  /** Program and leading arguments to run okesu with other arguments appended. */
  command: string;
  args: readonly string[];
  /** True for the single executable (SEA): no node on the host needed. */
  single: boolean;
}

let sea: boolean | undefined;

/** True when this process is Node's single-executable application (`okesu-linux-x64`). */
export function isSingleExecutable(): boolean {
  if (sea === undefined) {
    try {
      sea = (createRequire(import.meta.url)('node:sea') as { isSea(): boolean }).isSea();
    } catch {
      sea = false; // node:sea is missing on older Node builds: not a SEA.
    }
  }
  return sea;
}

/**
 * This okesu: the SEA binary itself, or `node [execArgv] ENTRY` for the bundle (entry: the CLI's `deps.entry`).
 * In a SEA, `entry` is the bundle its launcher unpacked (scripts/sea/launcher.cjs) and node's options are the
 * binary's own, so neither is repeated: the binary unpacks (or finds) the bundle again itself.
 */
export function runningExecutable(entry: string): RunningExecutable {
  if (isSingleExecutable()) return { file: process.execPath, command: process.execPath, args: [], single: true };
  return { file: entry, command: process.execPath, args: [...process.execArgv, entry], single: false };
}
