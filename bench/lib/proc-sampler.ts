import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mean } from './stats.js';

let clockTicks: number | undefined;

/** Kernel clock ticks per second (`getconf CLK_TCK`), the unit of utime/stime in /proc/<pid>/stat. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** One reading of a process: CPU seconds used so far (user + system) and resident memory in bytes. */
export interface ProcReading {
  at: number;
  cpuSeconds: number;
  rssBytes: number;
}

/** Reads /proc/<pid>/stat (utime, stime) and /proc/<pid>/status (VmRSS). Throws if the process is gone. */
export function readProc(pid: number): ProcReading {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  return { at: performance.now(), cpuSeconds: cpuTicks / ticksPerSecond(), rssBytes: rssKb * 1024 };
}

/** What a sampling window saw: CPU as % of one core over the window, RSS mean/max/last in MiB. */
export interface ProcSummary {
  seconds: number;
  cpuPercent: number;
  rssMeanMiB: number;
  rssMaxMiB: number;
  rssLastMiB: number;
  samples: number;
}

/** Samples a child's CPU and RSS every `intervalMs` until `stop()`, which returns the summary. */
export function sampleProcess(pid: number, intervalMs = 250): { stop(): ProcSummary } {
  const first = readProc(pid);
  const rss: number[] = [first.rssBytes];
  let last = first;
  const timer = setInterval(() => {
    try {
      last = readProc(pid);
      rss.push(last.rssBytes);
    } catch {
      clearInterval(timer);
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      try {
        last = readProc(pid);
        rss.push(last.rssBytes);
      } catch {
        // The process ended: keep the last reading.
      }
      const seconds = (last.at - first.at) / 1000;
      const mib = (b: number): number => b / (1024 * 1024);
      return {
        seconds,
        cpuPercent: seconds > 0 ? ((last.cpuSeconds - first.cpuSeconds) / seconds) * 100 : Number.NaN,
        rssMeanMiB: mib(mean(rss)),
        rssMaxMiB: mib(Math.max(...rss)),
        rssLastMiB: mib(last.rssBytes),
        samples: rss.length,
      };
    },
  };
}

/** Resident memory split from /proc/<pid>/status, in MiB: anonymous (heap, stacks), file-backed (code, mapped files), shared memory. */
export function rssBreakdown(pid: number): { anonMiB: number; fileMiB: number; shmemMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024;
  return { anonMiB: kb('RssAnon'), fileMiB: kb('RssFile'), shmemMiB: kb('RssShmem') };
}
