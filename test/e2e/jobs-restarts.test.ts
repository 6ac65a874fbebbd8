import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/protocol/api.js';
import type { TestBucket } from '../support/s3.js';
import { stop, tempDir, waitFor, type CpProcess, type OkesuProcess } from './harness.js';
import {
  dispatch, expectWholeTranscript, findingsOf, jobsBucket, joinToken, layoutOf, listAll, spawnJobsDaimon, startJobsCp, waitHost, waitRunEnd,
} from './jobs-harness.js';

// Kill -9 of the CP and of the daimon (radosgw restarts: jobs-s3-restart.test.ts, on a private server); every test
// checks its run's transcript is whole and single.
let tb: TestBucket;
let cp: CpProcess;
let cpDir: string;
const procs: OkesuProcess[] = [];
const track = (p: OkesuProcess): OkesuProcess => (procs.push(p), p);

beforeAll(async () => {
  tb = await jobsBucket('e2e-jobs-restarts');
  cpDir = tempDir('jobs-restarts-cp');
  cp = await startJobsCp(cpDir, tb);
}, 60_000);
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
});
afterAll(async () => {
  await stop(cp?.proc, 'SIGKILL');
  tb?.bucket.close();
});

async function jobsHost(host: string): Promise<{ state: string; daimon: OkesuProcess }> {
  const state = tempDir(`jobs-restarts-${host}`);
  const daimon = track(spawnJobsDaimon(tb, state, host, { token: await joinToken(cp) }));
  await waitHost(cp, host, 'online', (h) => h.state === 'online');
  return { state, daimon };
}
const flood = (host: string, count: number, everyMs: number): Promise<RunView> =>
  dispatch(cp, 'flood', host, { dispatch: 'jobs', inputs: { count, batch: 50, every_ms: everyMs } });
const stored = async (runId: string): Promise<number> => (await findingsOf(cp, runId)).length;

/** The run's findings are exactly `count` distinct ones, and its transcript is whole and single. */
async function expectExactlyOnce(runId: string, count: number, status: RunView['status']): Promise<void> {
  const { run, events } = await waitRunEnd(cp, runId, 60_000);
  expect(run.status).toBe(status);
  expectWholeTranscript(events, events.filter((e) => e.type === 'finding').length);
  const findings = await findingsOf(cp, runId);
  expect(new Set(findings.map((f) => f.dedup_key)).size).toBe(findings.length);
  expect(new Set(findings.map((f) => f.seq)).size).toBe(findings.length);
  if (status === 'completed') expect(findings).toHaveLength(count);
}

describe('jobs mode across restarts', () => {
  it('kill -9 of the CP while it scans events objects: after restart nothing is lost and nothing is stored twice', async () => {
    await jobsHost('jr-cp');
    const run = await flood('jr-cp', 3000, 60);
    // Killed while it has ingested some and more events objects wait in the bucket: the restarted CP scans those.
    await waitFor('some findings ingested and more in the bucket', async () =>
      (await stored(run.run_id)) >= 300 && (await listAll(tb.bucket, layoutOf(tb).hostOutbox('jr-cp'))).length > 0, 30_000, 50);
    cp.proc.kill('SIGKILL');
    await cp.proc.exited;
    cp = await startJobsCp(cpDir, tb, cp.port);
    await expectExactlyOnce(run.run_id, 3000, 'completed');
  }, 120_000);

  it('kill -9 of the daimon mid-run: its spool replays through the bucket on restart and the run ends failed, no event twice', async () => {
    const { state, daimon } = await jobsHost('jr-d');
    const run = await flood('jr-d', 20_000, 40);
    const before = await waitFor('some findings ingested', async () => {
      const n = await stored(run.run_id);
      return n >= 500 && n;
    }, 30_000, 100);
    daimon.kill('SIGKILL');
    await daimon.exited;
    track(spawnJobsDaimon(tb, state, 'jr-d'));
    // The run died with its daimon: the restarted one reports it failed (as on the tunnel), after replaying its spool.
    await expectExactlyOnce(run.run_id, 20_000, 'failed');
    expect(await stored(run.run_id)).toBeGreaterThanOrEqual(before);
  }, 120_000);
});
