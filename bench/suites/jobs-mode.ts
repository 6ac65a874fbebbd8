import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import type { BenchFigure, BenchResult, BenchSuite } from '../lib/types.js';
import { OKESU, startCpChild, type CpChild } from '../lib/cp-process.js';
import { timedSetup, timedTeardown } from '../lib/setup-clock.js';
import { createBucket, startS3Server, type S3Server } from '../lib/s3-server.js';
import { round, waitUntil } from '../lib/stats.js';
import { bucketLayout } from '../../src/protocol/bucket-layout.js';
import type { Bucket, BucketLocation } from '../../src/transport/bucket/bucket.js';
import type { ClaimTiming } from '../sim/jobs-host.js';
import { startJobsFleet, type JobsFleet } from '../sim/jobs-fleet.js';
import { benchCa, writeJobs } from '../sim/jobs-writer.js';
import { createLiteS3Bucket } from '../sim/lite-s3.js';
import { measureIdle } from '../sim/jobs-idle.js';
import { measureS3Ceiling } from '../sim/s3-ceiling.js';
import { dispatchFigures, idleFigures, idleNotes, type Pace } from './jobs-mode-figures.js';
import { measureEvents } from './jobs-mode-events.js';

/**
 * The hosts' poll interval and heartbeat cadence (the figures' labels say both). A short poll keeps the suite short,
 * but a thousand hosts at a 2 s poll with a heartbeat each poll make 1,000 requests/s, more than one radosgw sharing
 * two cores with the CP and the simulators serves (about 600/s measured; the suite measures its ceiling first). Quick
 * mode (a smoke run of 100 hosts, 100 LISTs + 50 PUTs /s) polls every second so its waits fit the one-minute budget.
 * OKESU_BENCH_JOBS_POLL_MS and OKESU_BENCH_JOBS_HB_EVERY override them.
 */
const pace = (quick: boolean): Pace => ({
  pollMs: Number(process.env['OKESU_BENCH_JOBS_POLL_MS'] ?? (quick ? 1000 : 5000)),
  heartbeatEvery: Number(process.env['OKESU_BENCH_JOBS_HB_EVERY'] ?? 2),
  scanMs: 1000,
});
const BUCKET = 'okesu-bench';
const PREFIX = 'fleet';
const AGENT = 'bench-trivial';
const CHILDREN = 2;
const SAMPLE = 100;

/** True when the CP under test has the bucket transport (`cp serve --bucket`). */
function cpHasBucket(): boolean {
  try {
    return /--bucket\b/.test(execFileSync(process.execPath, [OKESU, 'cp', 'serve', '--help'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

function radosgwVersion(): string {
  try {
    return /\d+\.\d+\.\d+/.exec(execFileSync('radosgw', ['--version'], { encoding: 'utf8' }))?.[0] ?? '?';
  } catch {
    return '?';
  }
}

/**
 * Issue 14: N jobs-mode hosts (simulated in a few processes: real keys, real signatures, real S3 requests) against one
 * radosgw started here and a real `okesu cp serve --bucket`: registration, idle cost per poll, CP CPU per scan,
 * dispatch → claim latency of a sample and of a fan-out to every host, and events through the bucket into the CP's
 * store. When the CP has no bucket transport, the hosts' side is measured alone (the bench signs the jobs with a CA
 * key of its own) and the CP figures are left out.
 */
export const suite: BenchSuite = {
  name: 'jobs-mode',
  async run({ quick, log }): Promise<BenchResult> {
    const PACE = pace(quick);
    const n = quick ? 100 : 1000;
    const sample = Math.min(quick ? 50 : SAMPLE, n);
    const viaBucket = quick ? 10 : 50;
    const streamers = quick ? 10 : 100;
    const streamObjects = 1;
    const recordsPerObject = 250;
    const withCp = cpHasBucket();
    const figures: BenchFigure[] = [];
    const notes: string[] = [];
    const params = { hosts: n, poll_ms: PACE.pollMs, heartbeat_every: PACE.heartbeatEvery, scan_ms: PACE.scanMs, children: CHILDREN, sample, via_bucket: viaBucket, streamers, stream_objects: streamObjects, records_per_object: recordsPerObject, cp: withCp, quick };
    let s3: S3Server | undefined;
    let cp: CpChild | undefined;
    let fleet: JobsFleet | undefined;
    let probe: Bucket | undefined;
    try {
      notes.push(`load average at the start: ${loadavg().map((l) => round(l, 1)).join(', ')} (2 cores: other work on the machine slows radosgw, the CP and the simulators alike)`);
      s3 = await timedSetup(() => startS3Server(log));
      notes.push(`one radosgw (Ceph ${radosgwVersion()}, memstore, one node) started by the suite in ${round(s3.startSeconds, 1)} s and stopped at its end`);
      await createBucket(s3, BUCKET);
      const location: BucketLocation = { bucket: BUCKET, prefix: PREFIX, endpoint: s3.endpoint, region: 'us-east-1' };
      const layout = bucketLayout(PREFIX);
      // The bench's own client: the store's ceiling, the sim-only jobs, and a look at what the CP has not consumed yet.
      probe = createLiteS3Bucket(location, s3);
      const ceiling = await measureS3Ceiling(probe, '');
      figures.push(
        { name: 'radosgw ceiling: LIST of an empty inbox (one client, 32 in flight)', value: round(ceiling.listPerSecond, 0), unit: 'requests/s' },
        { name: 'radosgw ceiling: PUT of a 600 B heartbeat (one client, 32 in flight)', value: round(ceiling.putPerSecond, 0), unit: 'requests/s' },
      );
      const env = s3.env;
      fleet = await timedSetup(() => startJobsFleet(n, 'jobs', CHILDREN, env));

      let signJobs: ReturnType<typeof benchCa> | undefined;
      if (withCp) {
        const endpoint = s3.endpoint;
        cp = await timedSetup(() => startCpChild(['--bucket', `s3://${BUCKET}/${PREFIX}`, '--s3-endpoint', endpoint, '--bucket-scan', `${PACE.scanMs / 1000}s`], [], env));
        const token = await cp.admin.createToken({ kind: 'join', uses: n, name: 'bench-jobs', ttl_ms: 3_600_000 });
        log(`registering ${viaBucket} hosts through the bucket, then ${n - viaBucket} through /v1/register, from ${CHILDREN} simulator processes`);
        const bucketMs = await fleet.registerThroughBucket(location, token.token, viaBucket, 250);
        const regMs = await fleet.register({ host: '127.0.0.1', port: cp.port, ca: cp.config.ca }, token.token);
        figures.push(
          { name: `registration through the bucket (${viaBucket} hosts at once, scan ${PACE.scanMs / 1000} s, answer read every 250 ms)`, value: round(viaBucket / (bucketMs / 1000), 1), unit: 'hosts/s' },
          { name: `registration through /v1/register (${n - viaBucket} hosts, key + CSR each)`, value: round((n - viaBucket) / (regMs / 1000), 0), unit: 'hosts/s' },
        );
        notes.push(`${viaBucket} hosts registered through the bucket in ${round(bucketMs / 1000, 1)} s (request written → answer verified and credential unsealed), the other ${n - viaBucket} through /v1/register`);
      } else {
        signJobs = benchCa();
        await fleet.localKeys(signJobs.publicKeyPem);
        notes.push('SIM-ONLY: the CP under test has no `--bucket`; the bench signed the jobs with a CA key of its own, and no CP figures were measured');
      }

      log(`starting ${n} hosts polling every ${PACE.pollMs} ms, heartbeat every ${PACE.heartbeatEvery} polls`);
      const t0 = Date.now();
      await fleet.start(location, PACE.pollMs, PACE.heartbeatEvery);
      const f = fleet;
      if (cp) {
        const admin = cp.admin;
        await waitUntil(`${n} jobs hosts online`, async () => (await admin.hosts()).filter((h) => h.state === 'online' && h.transport === 'jobs').length >= n, 120_000, 250);
        figures.push({ name: `polling started → ${n} hosts online at the CP with transport jobs (poll ${PACE.pollMs / 1000} s)`, value: Date.now() - t0, unit: 'ms' });
      } else {
        await waitUntil(`${n} hosts heartbeating`, async () => [...(await f.stats()).hosts.values()].every((h) => h.heartbeats > 0), 60_000, 250);
      }

      // Idle: every host polling an empty inbox and heartbeating, over a whole number of heartbeat intervals.
      const pids = await s3.pids();
      const idle = await measureIdle(fleet, PACE.pollMs * PACE.heartbeatEvery * Math.ceil(2 / PACE.heartbeatEvery), { cp: cp?.pid, rgw: pids.rgw, osd: pids.osd });
      figures.push(...idleFigures(idle, n, PACE));
      notes.push(...idleNotes(idle, n, PACE));

      // Dispatch: one job to each host of a sample, then to every host; latency to each claim.
      const c = cp;
      const fanOut = async (hosts: string[]): Promise<{ claims: ClaimTiming[]; d0: number; writtenAt: number }> => {
        await f.stats(); // drops the claims reported so far
        const d0 = Date.now();
        let writtenAt: number;
        if (c) {
          const answer = await c.admin.createRuns({ agent: AGENT, hosts, prompt: '', dispatch: 'jobs', timeout_ms: 120_000 });
          if (answer.runs.length !== hosts.length || answer.failed > 0) throw new Error(`the fan-out answered ${answer.runs.length} runs, ${answer.failed} failed; expected ${hosts.length}`);
          writtenAt = Date.now();
        } else {
          writtenAt = (await writeJobs(probe as Bucket, layout, (signJobs as ReturnType<typeof benchCa>).signer, hosts, AGENT, 120_000)).lastPutAt;
        }
        const claims: ClaimTiming[] = [];
        await waitUntil(`${hosts.length} claims`, async () => {
          claims.push(...(await f.stats()).claims);
          return claims.length >= hosts.length;
        }, 90_000, 100);
        return { claims, d0, writtenAt };
      };
      const source = cp ? 'POST /v1/runs' : 'the bench writing the jobs';
      log(`dispatching one job to each of ${sample} hosts`);
      const sampleHosts = fleet.hostnames.filter((_, i) => i % Math.floor(n / sample) === 0).slice(0, sample);
      const s = await fanOut(sampleHosts);
      figures.push(...dispatchFigures(s.claims, s.d0, s.writtenAt, sample, source, PACE));
      const p = probe;
      const outboxEmpty = async (): Promise<boolean> => (await p.list(layout.outbox(), { maxKeys: 1 })).entries.length === 0;
      if (c) {
        const admin = c.admin;
        const ids = new Set(s.claims.map((x) => x.runId));
        await waitUntil(`${sample} runs completed`, async () => (await admin.listRuns({ limit: 1000 })).filter((r) => ids.has(r.run_id) && r.status === 'completed').length >= sample, 60_000, 100);
        figures.push({ name: `fan-out POST → every run completed at the CP (${sample} hosts: claim, events and exit objects, scan)`, value: Date.now() - s.d0, unit: 'ms' });
        await waitUntil('the CP consumed every exit', outboxEmpty, 30_000, 100);
      }

      // Events: `streamers` hosts write findings through the bucket, one PUT in flight each.
      log(`${streamers} hosts writing ${streamObjects} events objects of ${recordsPerObject} findings each`);
      const ev = await measureEvents(fleet, c, streamers, streamObjects, recordsPerObject, outboxEmpty, pids.rgw);
      figures.push(...ev.figures);
      notes.push(...ev.notes);

      // Last (its runs are not waited for): one job to every host.
      log(`dispatching one job to each of ${n} hosts`);
      const all = await fanOut(fleet.hostnames);
      figures.push(...dispatchFigures(all.claims, all.d0, all.writtenAt, n, source, PACE));
      notes.push(`load average at the end: ${loadavg().map((l) => round(l, 1)).join(', ')}`);
    } finally {
      await timedTeardown(async () => {
        await fleet?.close();
        probe?.close();
        await cp?.close();
        await s3?.stop();
      });
    }
    return { suite: 'jobs-mode', params, figures, notes };
  },
};
