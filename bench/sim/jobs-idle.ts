import { sampleProcess, type ProcSummary } from '../lib/proc-sampler.js';
import { sleep } from '../lib/stats.js';
import type { JobsHostCounters } from './jobs-host.js';
import type { JobsFleet } from './jobs-fleet.js';

/** What an idle fleet cost over one window: requests per host per poll (from the hosts' own counters) and CPU. */
export interface IdleWindow {
  seconds: number;
  polls: number;
  requestsPerPoll: number;
  listsPerPoll: number;
  putsPerPoll: number;
  getsPerPoll: number;
  /** The most requests one host made per poll over the window. */
  maxRequestsPerPoll: number;
  requestsPerSecond: number;
  errors: number;
  /** HTTP attempts the S3 clients counted over the window, by operation (retries included). */
  clientRequests: Record<string, number>;
  cp?: ProcSummary;
  rgw?: ProcSummary;
  osd?: ProcSummary;
}

const requests = (c: JobsHostCounters): number => c.list + c.get + c.put + c.putIfAbsent;

/** Lets the fleet idle for `windowMs`, sampling the CPU of the CP, radosgw and the osd (when given), and diffs the hosts' counters. */
export async function measureIdle(fleet: JobsFleet, windowMs: number, pids: { cp?: number; rgw?: number; osd?: number }): Promise<IdleWindow> {
  const a = await fleet.stats();
  const cp = pids.cp === undefined ? undefined : sampleProcess(pids.cp, 250);
  const rgw = pids.rgw === undefined ? undefined : sampleProcess(pids.rgw, 250);
  const osd = pids.osd === undefined ? undefined : sampleProcess(pids.osd, 250);
  const t0 = performance.now();
  await sleep(windowMs);
  const b = await fleet.stats();
  const seconds = (performance.now() - t0) / 1000;
  let polls = 0, reqs = 0, lists = 0, puts = 0, gets = 0, errors = 0, maxPerPoll = 0;
  for (const [host, after] of b.hosts) {
    const before = a.hosts.get(host);
    if (!before) continue;
    const p = after.polls - before.polls;
    const r = requests(after) - requests(before);
    polls += p;
    reqs += r;
    lists += after.list - before.list;
    puts += after.put + after.putIfAbsent - before.put - before.putIfAbsent;
    gets += after.get - before.get;
    errors += after.errors - before.errors;
    if (p > 0) maxPerPoll = Math.max(maxPerPoll, r / p);
  }
  const clientRequests: Record<string, number> = {};
  for (const [op, v] of Object.entries(b.requests)) clientRequests[op] = v - (a.requests[op] ?? 0);
  return {
    seconds, polls, requestsPerPoll: reqs / polls, listsPerPoll: lists / polls, putsPerPoll: puts / polls, getsPerPoll: gets / polls,
    maxRequestsPerPoll: maxPerPoll, requestsPerSecond: reqs / seconds, errors, clientRequests,
    ...(cp ? { cp: cp.stop() } : {}),
    ...(rgw ? { rgw: rgw.stop() } : {}),
    ...(osd ? { osd: osd.stop() } : {}),
  };
}
