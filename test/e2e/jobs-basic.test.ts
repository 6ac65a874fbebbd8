import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/protocol/api.js';
import type { RunEvent } from '../../src/protocol/event.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import type { TestBucket } from '../support/s3.js';
import { runOkesu, spawnOkesu, stop, tempDir, waitFor, type CpProcess, type OkesuProcess } from './harness.js';
import {
  dispatch, expectWholeTranscript, findingsOf, hostViewCli, jobsBucket, joinToken, jsonLines, listAll, layoutOf, operator, routeOf, runEvents, spawnJobsDaimon,
  startJobsCp, waitHost, waitRunEnd,
} from './jobs-harness.js';

// One CP and one bucket for the file; each test registers its own jobs-only hosts (no --cp: they never reach the CP).
let tb: TestBucket;
let cp: CpProcess;
const procs: OkesuProcess[] = [];
const track = (p: OkesuProcess): OkesuProcess => (procs.push(p), p);

beforeAll(async () => {
  tb = await jobsBucket('e2e-jobs-basic');
  cp = await startJobsCp(tempDir('jobs-basic-cp'), tb);
}, 60_000);
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
});
afterAll(async () => {
  await stop(cp?.proc, 'SIGKILL');
  tb?.bucket.close();
});

describe('a jobs-only daimon, end to end through radosgw', () => {
  it('registers through the bucket, shows online with transport jobs, and its findings reach findings and tail exactly once', async () => {
    const state = tempDir('jobs-basic-d1');
    track(spawnJobsDaimon(tb, state, 'jb-1', { token: await joinToken(cp) }));
    await waitHost(cp, 'jb-1', 'online over the bucket', (h) => h.state === 'online');
    const online = await hostViewCli(cp, 'jb-1');
    expect(online).toMatchObject({ transport: 'jobs', path: 'jobs', poll_ms: 500, heartbeat_interval_ms: 500, connected: false });
    // Registered through the bucket: the identity names the bucket, not a CP URL, and the answer was consumed.
    expect(JSON.parse(readFileSync(join(state, 'identity.json'), 'utf8'))).toMatchObject({ hostname: 'jb-1', cp: tb.url });
    await waitFor('the registration objects cleaned up', async () => (await listAll(tb.bucket, layoutOf(tb).registrations())).length === 0, 10_000);

    // Spawned before the run; --since replays history so it does not matter exactly when it connects.
    const tail = track(spawnOkesu(['tail', '--json', '--since', '1h'], cp.env));
    const follow = await runOkesu(['run', 'jobs-emit', '--host', 'jb-1', '--dispatch', 'jobs', '--input', 'count=3', '--wait', '--json'], cp.env);
    expect(follow.code, follow.stderr).toBe(0);
    const printed = follow.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
    const runId = printed[0]?.run_id as string;
    expect(printed.filter((e) => e.type === 'finding')).toHaveLength(3);

    const { run, events } = await waitRunEnd(cp, runId);
    expect(run).toMatchObject({ host: 'jb-1', status: 'completed', findings: 3 });
    expect(routeOf(run)).toBe('jobs');
    expectWholeTranscript(events, 3);
    const findings = await findingsOf(cp, runId);
    expect(findings.map((f) => f.dedup_key).sort()).toEqual([0, 1, 2].map((i) => `${runId}-${i}`));

    // A second run, dispatched `auto`, also goes through the bucket; once tail has printed it, the first run's findings
    // have had every chance to be printed twice.
    const second = await dispatch(cp, 'jobs-emit', 'jb-1', { inputs: { count: 2 } });
    expect(routeOf(await waitRunEnd(cp, second.run_id).then((r) => r.run))).toBe('jobs');
    await waitFor('tail printed both runs', () => jsonLines<StoredFinding>(tail).filter((f) => f.run_id === second.run_id).length === 2);
    const tailed = jsonLines<StoredFinding>(tail).filter((f) => f.run_id === runId);
    expect(tailed.map((f) => f.id).sort()).toEqual(findings.map((f) => f.id).sort());

    // The CP cleaned the run's inbox up once its exit arrived.
    await waitFor('the inbox emptied', async () => (await listAll(tb.bucket, layoutOf(tb).inbox('jb-1'))).length === 0, 10_000);
  }, 120_000);

  it('two pollers with the same identity race for each job: exactly one runs it', async () => {
    const stateA = tempDir('jobs-basic-twin-a');
    // A heartbeat every 4 polls (2 s): the host stays dispatchable (not offline) for 24 s while neither twin runs.
    const twin = ['--heartbeat-every', '4'];
    const first = spawnJobsDaimon(tb, stateA, 'jb-twin', { token: await joinToken(cp), extra: twin });
    await waitHost(cp, 'jb-twin', 'online', (h) => h.state === 'online');
    await stop(first);
    const stateB = tempDir('jobs-basic-twin-b');
    cpSync(stateA, stateB, { recursive: true });

    // Jobs queued while neither runs, so both find them on their first poll and race for the claims.
    const mark = join(tempDir('jobs-basic-mark'), 'started');
    const runs: RunView[] = [];
    for (let i = 0; i < 3; i++) runs.push(await dispatch(cp, 'jobs-emit', 'jb-twin', { dispatch: 'jobs', inputs: { count: 1, mark } }));
    const inbox = await listAll(tb.bucket, layoutOf(tb).inbox('jb-twin'));
    expect(inbox.filter((e) => e.key.endsWith('.job'))).toHaveLength(3);
    // At info level each twin logs the claims it won (and the ones it lost to the other).
    const twins = [stateA, stateB].map((s) => track(spawnJobsDaimon(tb, s, 'jb-twin', { extra: [...twin, '--log-level', 'info'] })));

    for (const run of runs) {
      const { run: done, events } = await waitRunEnd(cp, run.run_id);
      expect(done.status).toBe('completed');
      expectWholeTranscript(events, 1);
    }
    // The agent appends a line each time it really starts: one per run, whichever twin claimed it.
    const started = readFileSync(mark, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
    expect(started.sort()).toEqual(runs.map((r) => r.run_id).sort());
    const claims = (msg: string) => twins.flatMap((t) => t.stdoutLines.filter((l) => l.includes(msg)).map((l) => (JSON.parse(l) as { run_id: string }).run_id));
    expect(claims('job claimed from the bucket').sort()).toEqual(runs.map((r) => r.run_id).sort());
    // A later poll of either twin does not run anything again.
    const after = await dispatch(cp, 'jobs-emit', 'jb-twin', { inputs: { count: 1, mark } });
    await waitRunEnd(cp, after.run_id);
    expect(readFileSync(mark, 'utf8').trim().split('\n')).toHaveLength(4);
    for (const run of runs) expect((await runEvents(cp, run.run_id)).filter((e) => e.type === 'run_start')).toHaveLength(1);
  }, 120_000);

  it('cancels a run and times one out through the bucket', async () => {
    track(spawnJobsDaimon(tb, tempDir('jobs-basic-cancel'), 'jb-cancel', { token: await joinToken(cp) }));
    await waitHost(cp, 'jb-cancel', 'online', (h) => h.state === 'online');
    const long = { count: 200, every_ms: 200 };

    const cancelled = await dispatch(cp, 'jobs-emit', 'jb-cancel', { dispatch: 'jobs', inputs: long });
    await waitFor('the run started', async () => (await findingsOf(cp, cancelled.run_id)).length >= 1, 20_000, 100);
    const asked = await runOkesu(['runs', 'cancel', cancelled.run_id, '--reason', 'e2e'], cp.env);
    expect(asked.code, asked.stderr).toBe(0);
    const c = await waitRunEnd(cp, cancelled.run_id);
    expect(c.run.status).toBe('cancelled');
    expectWholeTranscript(c.events, c.events.filter((e) => e.type === 'finding').length);
    expect(c.run.findings).toBeLessThan(200);

    const timed = await operator(cp).createRun({ agent: 'jobs-emit', host: 'jb-cancel', inputs: long, dispatch: 'jobs', timeout_ms: 2000 });
    const t = await waitRunEnd(cp, timed.run_id);
    expect(t.run.status).toBe('timeout');
    expect(t.run.findings).toBeLessThan(200);
    // Both ended: the CP cleaned their inbox objects (job, claim, cancel) up.
    await waitFor('the inbox emptied', async () => (await listAll(tb.bucket, layoutOf(tb).inbox('jb-cancel'))).length === 0, 15_000);
  }, 120_000);
});
