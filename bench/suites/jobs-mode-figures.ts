import type { BenchFigure } from '../lib/types.js';
import { percentile, round } from '../lib/stats.js';
import type { ClaimTiming } from '../sim/jobs-host.js';
import type { IdleWindow } from '../sim/jobs-idle.js';

/** The jobs-mode suite's pace: the hosts' poll, their heartbeat every N polls, and the CP's scan interval. */
export interface Pace {
  pollMs: number;
  heartbeatEvery: number;
  scanMs: number;
}

const sec = (ms: number): string => `${ms / 1000} s`;

/** Figures of an idle window: requests per host per poll (target 1 LIST + the heartbeat PUT when due), store and CP CPU. */
export function idleFigures(idle: IdleWindow, n: number, pace: Pace): BenchFigure[] {
  const target = 1 + 1 / pace.heartbeatEvery;
  const out: BenchFigure[] = [
    {
      name: `S3 requests per idle host per poll (poll ${sec(pace.pollMs)}, heartbeat every ${pace.heartbeatEvery} polls)`, value: round(idle.requestsPerPoll, 3), unit: 'requests',
      target: `≤ ${round(target, 2)} (1 LIST + 1/${pace.heartbeatEvery} heartbeat PUT)`, met: idle.requestsPerPoll <= target + 0.02,
    },
    { name: 'LIST per idle host per poll', value: round(idle.listsPerPoll, 3), unit: 'requests' },
    { name: `S3 requests per second from ${n} idle hosts`, value: round(idle.requestsPerSecond, 0), unit: 'requests/s' },
    { name: `radosgw + osd CPU with ${n} idle hosts${idle.cp ? ' and the CP scanning' : ''}`, value: round((idle.rgw?.cpuPercent ?? Number.NaN) + (idle.osd?.cpuPercent ?? 0), 0), unit: '% of a core' },
  ];
  if (idle.cp) {
    const perScanMs = ((idle.cp.cpuPercent / 100) * idle.seconds * 1000) / (idle.seconds / (pace.scanMs / 1000));
    out.push(
      { name: `CP CPU per scan interval per 1,000 hosts (${n} idle hosts heartbeating every ${sec(pace.pollMs * pace.heartbeatEvery)}, scan ${sec(pace.scanMs)})`, value: round((perScanMs * 1000) / n, 1), unit: 'ms' },
      { name: `CP CPU with ${n} idle jobs hosts`, value: round(idle.cp.cpuPercent, 1), unit: '% of a core' },
      { name: `CP RSS with ${n} idle jobs hosts`, value: round(idle.cp.rssLastMiB, 0), unit: 'MiB' },
    );
  }
  return out;
}

/** Notes of an idle window: the breakdown per operation, and what a day costs per host at this pace. */
export function idleNotes(idle: IdleWindow, n: number, pace: Pace): string[] {
  const perDay = (pollMs: number, hbEvery: number): number => Math.round((86_400_000 / pollMs) * (1 + 1 / hbEvery));
  return [
    `idle window ${round(idle.seconds, 1)} s: ${idle.polls} polls by ${n} hosts; per poll ${round(idle.listsPerPoll, 3)} LIST, ${round(idle.putsPerPoll, 3)} PUT, ${round(idle.getsPerPoll, 3)} GET; ` +
      `most requests by one host per poll: ${round(idle.maxRequestsPerPoll, 2)}; failed requests: ${idle.errors}; the simulators' S3 clients counted ${JSON.stringify(idle.clientRequests)}`,
    `the window holds whole heartbeat intervals, but a poll slowed by a busy store shifts a host's polls against it: ±0.02 request per poll is that phase, not extra requests (the per-operation counts say which)`,
    `requests per host per day: ${perDay(pace.pollMs, pace.heartbeatEvery).toLocaleString('en')} at this pace; ${perDay(10_000, 1).toLocaleString('en')} at the default 10 s poll with a heartbeat each poll`,
    ...(idle.cp ? [`CP CPU per scan interval = CP CPU time over the window / (window / scan interval): an upper bound per pass (a pass starts one interval after the last ended)`] : []),
  ];
}

/** Figures of one fan-out: dispatch → claim (from the request) and signed → claimed (the polling alone). */
export function dispatchFigures(claims: ClaimTiming[], d0: number, writtenAt: number, n: number, source: string, pace: Pace): BenchFigure[] {
  const fromDispatch = claims.map((c) => c.claimedAt - d0);
  const fromWrite = claims.map((c) => c.claimedAt - c.issuedAt);
  const target = pace.pollMs + 1000;
  const p99 = percentile(fromDispatch, 99);
  const what = `${n}-host fan-out, poll ${sec(pace.pollMs)}`;
  return [
    { name: `dispatch → claim p50 (${what}, from ${source})`, value: Math.round(percentile(fromDispatch, 50)), unit: 'ms' },
    { name: `dispatch → claim p99 (${what}, from ${source})`, value: Math.round(p99), unit: 'ms', target: `≤ ${target} ms (poll + 1 s)`, met: p99 <= target },
    { name: `job signed → claimed p99 (${what}: the polling alone)`, value: Math.round(percentile(fromWrite, 99)), unit: 'ms' },
    { name: `time to write the ${n} jobs (${source === 'POST /v1/runs' ? 'POST answered' : 'last PUT'})`, value: writtenAt - d0, unit: 'ms' },
  ];
}
