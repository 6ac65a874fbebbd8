import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartRadosgw, startS3Server, type StartedS3Server, type TestBucket } from '../support/s3.js';
import { stop, tempDir, waitFor, type CpProcess, type OkesuProcess } from './harness.js';
import {
  dispatch, expectWholeTranscript, findingsOf, jobsBucket, joinToken, spawnJobsDaimon, startJobsCp, waitHost, waitRunEnd,
} from './jobs-harness.js';

// radosgw restarted under a CP and a jobs host. On a private server: restarting the run's shared one would break the
// test files running beside this one.
let server: StartedS3Server;
let tb: TestBucket;
let cp: CpProcess;
let daimon: OkesuProcess;

beforeAll(async () => {
  server = await startS3Server();
  tb = await jobsBucket('e2e-jobs-s3-restart', server);
  cp = await startJobsCp(tempDir('jobs-s3r-cp'), tb);
  daimon = spawnJobsDaimon(tb, tempDir('jobs-s3r-d'), 'js-1', { token: await joinToken(cp) });
  await waitHost(cp, 'js-1', 'online', (h) => h.state === 'online');
}, 90_000);
afterAll(async () => {
  await stop(daimon, 'SIGKILL');
  await stop(cp?.proc, 'SIGKILL');
  tb?.bucket.close();
  await server?.stop();
});

describe('jobs mode across a radosgw restart', () => {
  it('a radosgw restart mid-run: both sides resume, nothing lost, nothing twice', async () => {
    const run = await dispatch(cp, 'flood', 'js-1', { dispatch: 'jobs', inputs: { count: 3000, batch: 50, every_ms: 60 } });
    await waitFor('some findings ingested', async () => (await findingsOf(cp, run.run_id)).length >= 200, 30_000, 100);
    await restartRadosgw(server);
    const { run: done, events } = await waitRunEnd(cp, run.run_id, 60_000);
    expect(done.status).toBe('completed');
    expectWholeTranscript(events, 3000);
    const findings = await findingsOf(cp, run.run_id);
    expect(findings).toHaveLength(3000);
    expect(new Set(findings.map((f) => f.dedup_key)).size).toBe(3000);

    // Both still poll: a new dispatch goes round, and the host is online.
    const again = await dispatch(cp, 'jobs-emit', 'js-1', { dispatch: 'jobs', inputs: { count: 1 } });
    expect((await waitRunEnd(cp, again.run_id)).run.status).toBe('completed');
    await waitHost(cp, 'js-1', 'online', (h) => h.state === 'online');
    expect(daimon.child.exitCode).toBeNull();
    expect(cp.proc.child.exitCode).toBeNull();
  }, 120_000);
});
