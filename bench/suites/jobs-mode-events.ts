import type { BenchFigure } from '../lib/types.js';
import type { CpChild } from '../lib/cp-process.js';
import { sampleProcess } from '../lib/proc-sampler.js';
import { round, waitUntil } from '../lib/stats.js';
import type { JobsFleet } from '../sim/jobs-fleet.js';

/**
 * The events phase of the jobs-mode suite: `streamers` hosts each open a tick run (its run_start alone, consumed by
 * the CP before anything else is written), then write `objects` events objects of `recordsPerObject` findings, one PUT
 * in flight per host. With a CP, the rate is findings stored (its findings summary) over the time from the first PUT.
 */
export async function measureEvents(
  fleet: JobsFleet, cp: CpChild | undefined, streamers: number, objects: number, recordsPerObject: number,
  outboxEmpty: () => Promise<boolean>, rgwPid: number | undefined,
): Promise<{ figures: BenchFigure[]; notes: string[] }> {
  const figures: BenchFigure[] = [];
  const notes: string[] = [];
  await fleet.stream(streamers, 1, 0, true);
  // The CP reads one host's objects concurrently: findings written before their run_start was consumed could reach it
  // first and be refused as records of an unknown run.
  if (cp) await waitUntil('the CP took every tick run_start', outboxEmpty, 30_000, 100);
  const before = cp ? (await cp.admin.findingsSummary()).total : 0;
  const cpu = cp ? sampleProcess(cp.pid, 250) : undefined;
  const rgw = rgwPid === undefined ? undefined : sampleProcess(rgwPid, 250);
  const w = await fleet.stream(streamers, objects, recordsPerObject);
  if (w.errors > 0) notes.push(`${w.errors} events PUTs failed`);
  figures.push({ name: `events written into the bucket (${streamers} hosts, ${recordsPerObject} records per object, one PUT in flight each)`, value: round(w.records / ((w.lastPutAt - w.firstPutAt) / 1000), 0), unit: 'records/s' });
  if (!cp || !cpu) return { figures, notes };
  const admin = cp.admin;
  let stored = 0;
  let progressAt = Date.now();
  const storedAt = await waitUntil(`${w.records} findings stored`, async () => {
    const now = (await admin.findingsSummary()).total - before;
    if (now > stored) [stored, progressAt] = [now, Date.now()];
    else if (Date.now() - progressAt > 20_000) throw new Error(`no finding stored for 20 s (${stored} of ${w.records})`);
    return now >= w.records ? Date.now() : 0;
  }, 90_000, 100).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; CP log: ${cp.stderr().slice(-1500)}`);
  });
  const proc = cpu.stop();
  const store = rgw?.stop();
  figures.push(
    { name: `events from ${streamers} hosts through the bucket into the CP's store (scan 1 s)`, value: round(w.records / ((storedAt - w.firstPutAt) / 1000), 0), unit: 'records/s' },
    { name: 'CP CPU while ingesting from the bucket', value: round(proc.cpuPercent, 0), unit: '% of a core' },
    { name: 'radosgw CPU while the CP ingests', value: round(store?.cpuPercent ?? Number.NaN, 0), unit: '% of a core' },
  );
  notes.push(`events: ${w.records} findings in ${w.objects} objects; first PUT → last stored ${storedAt - w.firstPutAt} ms (the PUTs took ${w.lastPutAt - w.firstPutAt} ms)`);
  return { figures, notes };
}
