import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { OKESU, asChild, type Child, type CpChild } from './cp-process.js';

/** A line `okesu tail --json` printed, with the wall-clock time (ms, sub-ms precision) it reached this process. */
export interface TailLine {
  at: number;
  line: string;
}

/** Wall clock with sub-millisecond precision; comparable with `performance.timeOrigin + performance.now()` in any process on this machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/**
 * Starts a real `okesu tail --json` (with `cp`'s admin config) and hands every stdout line to `onLine` the moment it
 * arrives, stamped with `wallNow()`. Lines are split here, so a chunk holding many lines stamps them all alike.
 */
export function startTail(cp: CpChild, onLine: (l: TailLine) => void, extra: string[] = []): Child {
  // BENCH_TAIL_CPU_PROF=DIR profiles tail (`--cpu-prof`), as BENCH_CPU_PROF does the CP.
  const prof = process.env['BENCH_TAIL_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(process.env['BENCH_TAIL_CPU_PROF'])] : [];
  const child = spawn(process.execPath, [...prof, OKESU, 'tail', '--json', ...extra], {
    env: { ...process.env, OKESU_CONFIG: join(cp.stateDir, 'admin.yaml'), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not start okesu tail');
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const at = wallNow();
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) if (line) onLine({ at, line });
  });
  return asChild(child);
}
