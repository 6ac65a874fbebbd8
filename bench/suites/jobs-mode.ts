import { execFileSync } from 'node:child_process';
import type { BenchFigure, BenchResult, BenchSuite } from '../lib/types.js';
import { OKESU, startCpChild, type CpChild } from '../lib/cp-process.js';
import { sampleProcess, type ProcSummary } from '../lib/proc-sampler.js';
import { createBucket, startS3Server, type S3Server } from '../lib/s3-server.js';
import { percentile, round, waitUntil } from '../lib/stats.js';
import { bucketLayout } from '../../src/protocol/bucket-layout.js';
import type { BucketLocation } from '../../src/transport/bucket/bucket.js';
import type { ClaimTiming } from '../sim/jobs-host.js';
import { startJobsFleet, type JobsFleet } from '../sim/jobs-fleet.js';
import { benchCa, writeJobs } from '../sim/jobs-writer.js';
import { createLiteS3Bucket } from '../sim/lite-s3.js';
import { measureIdle, type IdleWindow } from '../sim/jobs-idle.js';

/**
 * The hosts' poll interval and heartbeat cadence (the figures' labels say both): a short poll keeps the suite short,
 * but a thousand hosts at a 2 s poll with a heartbeat each poll make 1,000 requests/s, more than one radosgw sharing
 * two cores with the CP and the simulators serves (about 600/s measured). OKESU_BENCH_JOBS_POLL_MS and
 * OKESU_BENCH_JOBS_HB_EVERY override them.
 */
const POLL_MS = Number(process.env['OKESU_BENCH_JOBS_POLL_MS'] ?? 5000);
const HEARTBEAT_EVERY = Number(process.env['OKESU_BENCH_JOBS_HB_EVERY'] ?? 2);
const SCAN_MS = 1000;
const BUCKET = 'okesu-bench';
const PREFIX = 'fleet';
const AGENT = 'bench-trivial';
const CHILDREN = 2;

/** True when the CP under test has the bucket transport (`cp serve --bucket`). */
function cpHasBucket(): boolean {
  try {
    return /--bucket\b/.test(execFileSync(process.execPath, [OKESU, 'cp', 'serve', '--help'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

const ms = (v: number): number => Math.round(v);

/**
 * Issue 14: N jobs-mode hosts (simulated in a few processes: real keys, real signatures, real S3 requests) against one
 * radosgw started here and a real `okesu cp serve --bucket`: registration, idle cost per poll, CP CPU per scan,
 * dispatch → claim latency of a fan-out, and events through the bucket. When the CP has no bucket transport, the hosts'
 * side is measured alone (the bench signs the jobs with a CA key of its own) and the CP figures are left out.
 */
export const suite: BenchSuite = {
  name: 'jobs-mode',
  async run({ quick, log }): Promise<BenchResult> {
    const n = quick ? 200 : 1000;
    const streamers = quick ? 20 : 100;
    const streamObjects = quick ? 2 : 4;
    const recordsPerObject = 250;
    // Three polls of every host.
    const idleSeconds = (3 * POLL_MS) / 1000;
    const withCp = cpHasBucket();
    const figures: BenchFigure[] = [];
    const notes: string[] = [];
    const params = { hosts: n, poll_ms: POLL_MS, heartbeat_every: HEARTBEAT_EVERY, scan_ms: SCAN_MS, children: CHILDREN, streamers, stream_objects: streamObjects, records_per_object: recordsPerObject, cp: withCp, quick };
    let s3: S3Server | undefined;
    let cp: CpChild | undefined;
    let fleet: JobsFleet | undefined;
    try {
      s3 = await startS3Server(log);
      notes.push(`one radosgw (Ceph ${radosgwVersion()}, memstore, one node) started by the suite in ${round(s3.startSeconds, 1)} s and stopped at its end`);
      await createBucket(s3, BUCKET);
      const location: BucketLocation = { bucket: BUCKET, prefix: PREFIX, endpoint: s3.endpoint, region: 'us-east-1' };
      const layout = bucketLayout(PREFIX);
      fleet = await startJobsFleet(n, 'jobs', CHILDREN, s3.env);

      let signJobs: ReturnType<typeof benchCa> | undefined;
      if (withCp) {
        cp = await startCpChild(['--bucket', `s3://${BUCKET}/${PREFIX}`, '--s3-endpoint', s3.endpoint, '--bucket-scan', `${SCAN_MS / 1000}s`], [], s3.env);
        const token = await cp.admin.createToken({ kind: 'join', uses: n, name: 'bench-jobs', ttl_ms: 3_600_000 });
        log(`registering ${n} hosts through /v1/register from ${CHILDREN} simulator processes`);
        const regMs = await fleet.register({ host: '127.0.0.1', port: cp.port, ca: cp.config.ca }, token.token);
        figures.push({ name: `registration through /v1/register (${n} hosts, key + CSR each)`, value: round(n / (regMs / 1000), 0), unit: 'hosts/s' });
      } else {
        signJobs = benchCa();
        await fleet.localKeys(signJobs.publicKeyPem);
        notes.push('SIM-ONLY: the CP under test has no `--bucket`; the bench signed the jobs with a CA key of its own, and no CP figures were measured');
      }

      log(`starting ${n} hosts polling every ${POLL_MS} ms`);
      const t0 = Date.now();
      await fleet.start(location, POLL_MS, HEARTBEAT_EVERY);
      const c = cp;
      if (c) {
        await waitUntil(`${n} jobs hosts online`, async () => (await c.admin.hosts()).filter((h) => h.state === 'online').length >= n, 60_000, 250);
        figures.push({ name: `polling started → ${n} hosts online at the CP (poll ${POLL_MS / 1000} s)`, value: Date.now() - t0, unit: 'ms' });
      } else {
        const f = fleet;
        await waitUntil(`${n} hosts polled`, async () => [...(await f.stats()).hosts.values()].every((h) => h.heartbeats > 0), 60_000, 250);
      }

      // Idle: every host polling an empty inbox and heartbeating.
      const rgwPid = (await s3.pids()).rgw;
      const idle = await measureIdle(fleet, idleSeconds * 1000, { cp: cp?.pid, rgw: rgwPid });
      figures.push(...idleFigures(idle, n));
      notes.push(...idleNotes(idle, n));

      // Dispatch: one fan-out to every host; latency to each claim.
      log(`dispatching one job to each of ${n} hosts`);
      await fleet.stats(); // clears the claims seen so far (none are expected)
      const d0 = Date.now();
      let writtenAt: number;
      if (cp) {
        const answer = await cp.admin.createRuns({ agent: AGENT, hosts: fleet.hostnames, prompt: '', dispatch: 'jobs', timeout_ms: 120_000 });
        if (answer.runs.length !== n || answer.failed > 0) throw new Error(`the fan-out answered ${answer.runs.length} runs, ${answer.failed} failed; expected ${n}`);
        writtenAt = Date.now();
      } else {
        const signer = (signJobs as ReturnType<typeof benchCa>).signer;
        const hostnames = fleet.hostnames;
        const bucket = createLiteS3Bucket(location, s3);
        try {
          writtenAt = (await writeJobs(bucket, layout, signer, hostnames, AGENT, 120_000)).lastPutAt;
        } finally {
          bucket.close();
        }
      }
      const claims: ClaimTiming[] = [];
      const f = fleet;
      await waitUntil(`${n} claims`, async () => {
        claims.push(...(await f.stats()).claims);
        return claims.length >= n;
      }, 60_000, 250);
      figures.push(...dispatchFigures(claims, d0, writtenAt, n, Boolean(cp)));
      if (cp) {
        const admin = cp.admin;
        await waitUntil(`${n} runs completed`, async () => (await admin.listRuns({ limit: 1000 })).filter((r) => r.status === 'completed').length >= Math.min(n, 1000), 60_000, 250);
        figures.push({ name: `fan-out POST → every run completed at the CP (${n} hosts, poll ${POLL_MS / 1000} s, scan ${SCAN_MS / 1000} s)`, value: Date.now() - d0, unit: 'ms' });
      }

      // Events: `streamers` hosts write findings through the bucket as fast as one PUT in flight each allows.
      log(`${streamers} hosts writing ${streamObjects} events objects of ${recordsPerObject} findings each`);
      const before = cp ? (await cp.admin.findingsSummary()).total : 0;
      const cpu0 = cp ? sampleProcess(cp.pid, 250) : undefined;
      const w = await fleet.stream(streamers, streamObjects, recordsPerObject);
      if (w.errors > 0) notes.push(`${w.errors} events PUTs failed`);
      figures.push({ name: `events written into the bucket (${streamers} hosts, ${recordsPerObject} records per object, one PUT in flight each)`, value: round(w.records / ((w.lastPutAt - w.firstPutAt) / 1000), 0), unit: 'records/s' });
      if (cp) {
        const admin = cp.admin;
        const storedAt = await waitUntil(`${w.records} findings stored`, async () => ((await admin.findingsSummary()).total - before >= w.records ? Date.now() : 0), 120_000, 100);
        const proc = cpu0?.stop() as ProcSummary;
        figures.push(
          { name: `events through the bucket into the CP's store (${streamers} hosts, scan ${SCAN_MS / 1000} s)`, value: round(w.records / ((storedAt - w.firstPutAt) / 1000), 0), unit: 'records/s' },
          { name: 'CP CPU while ingesting from the bucket', value: round(proc.cpuPercent, 0), unit: '% of a core' },
        );
        notes.push(`events: ${w.records} findings in ${w.objects} objects; first PUT → last stored ${storedAt - w.firstPutAt} ms (writes took ${w.lastPutAt - w.firstPutAt} ms)`);
      }
    } finally {
      await fleet?.close();
      await cp?.close();
      await s3?.stop();
    }
    return { suite: 'jobs-mode', params, figures, notes };
  },
};

function radosgwVersion(): string {
  try {
    return /\d+\.\d+\.\d+/.exec(execFileSync('radosgw', ['--version'], { encoding: 'utf8' }))?.[0] ?? '?';
  } catch {
    return '?';
  }
}

function idleFigures(idle: IdleWindow, n: number): BenchFigure[] {
  const target = 1 + 1 / HEARTBEAT_EVERY;
  const out: BenchFigure[] = [
    { name: `S3 requests per idle host per poll (poll ${POLL_MS / 1000} s, heartbeat every ${HEARTBEAT_EVERY} poll)`, value: round(idle.requestsPerPoll, 3), unit: 'requests', target: `≤ ${target} (1 LIST + heartbeat PUT)`, met: idle.requestsPerPoll <= target + 0.01 },
    { name: 'LIST per idle host per poll', value: round(idle.listsPerPoll, 3), unit: 'requests' },
    { name: `S3 requests per second, whole fleet idle (${n} hosts)`, value: round(idle.requestsPerSecond, 0), unit: 'requests/s' },
    { name: `radosgw CPU with ${n} idle hosts`, value: round(idle.rgw?.cpuPercent ?? Number.NaN, 0), unit: '% of a core' },
  ];
  if (idle.cp) {
    const scans = idle.seconds / (SCAN_MS / 1000);
    const perScanMs = ((idle.cp.cpuPercent / 100) * idle.seconds * 1000) / scans;
    out.push(
      { name: `CP CPU per scan pass per 1,000 hosts (${n} idle hosts heartbeating every ${(POLL_MS * HEARTBEAT_EVERY) / 1000} s, scan ${SCAN_MS / 1000} s)`, value: round((perScanMs * 1000) / n, 1), unit: 'ms' },
      { name: `CP CPU with ${n} idle jobs hosts`, value: round(idle.cp.cpuPercent, 1), unit: '% of a core' },
    );
  }
  return out;
}

function idleNotes(idle: IdleWindow, n: number): string[] {
  return [
    `idle window ${round(idle.seconds, 1)} s: ${idle.polls} polls by ${n} hosts; per poll ${round(idle.listsPerPoll, 3)} LIST, ${round(idle.putsPerPoll, 3)} PUT, ${round(idle.getsPerPoll, 3)} GET; ` +
      `most requests by one host in a poll: ${round(idle.maxRequestsPerPoll, 2)}; failed requests: ${idle.errors}; the S3 clients' own count: ${JSON.stringify(idle.clientRequests)}`,
    `at this pace (a LIST and a PUT per host every ${POLL_MS / 1000} s) one host makes ${Math.round((86_400_000 / POLL_MS) * idle.requestsPerPoll).toLocaleString('en')} requests a day; the default poll (10 s) makes a fifth of that`,
  ];
}

function dispatchFigures(claims: ClaimTiming[], d0: number, writtenAt: number, n: number, withCp: boolean): BenchFigure[] {
  const fromDispatch = claims.map((c) => c.claimedAt - d0);
  const fromWrite = claims.map((c) => c.claimedAt - c.issuedAt);
  const target = POLL_MS + 1000;
  const p99 = percentile(fromDispatch, 99);
  const source = withCp ? 'POST /v1/runs' : 'the bench writing the jobs';
  return [
    { name: `dispatch → claim p50 (${n}-host fan-out, from ${source}, poll ${POLL_MS / 1000} s)`, value: ms(percentile(fromDispatch, 50)), unit: 'ms' },
    { name: `dispatch → claim p99 (${n}-host fan-out, from ${source}, poll ${POLL_MS / 1000} s)`, value: ms(p99), unit: 'ms', target: `≤ ${target} ms (poll + 1 s)`, met: p99 <= target },
    { name: 'dispatch → claim max', value: ms(Math.max(...fromDispatch)), unit: 'ms' },
    { name: 'job signed → claimed p50 (the polling alone)', value: ms(percentile(fromWrite, 50)), unit: 'ms' },
    { name: 'job signed → claimed p99 (the polling alone)', value: ms(percentile(fromWrite, 99)), unit: 'ms' },
    { name: `time to write ${n} jobs (${withCp ? 'POST answered' : 'last PUT'})`, value: writtenAt - d0, unit: 'ms' },
  ];
}
