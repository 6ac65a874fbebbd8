import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredFinding } from '../../src/protocol/finding.js';
import type { TestBucket } from '../support/s3.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { spawnOkesu, stop, tempDir, waitFor, type CpProcess, type OkesuProcess } from './harness.js';
import {
  dispatch, expectWholeTranscript, findingsOf, jobsBucket, joinToken, jsonLines, routeOf, spawnJobsDaimon, startJobsCp, waitHost, waitRunEnd,
} from './jobs-harness.js';

// A daimon with both transports (`--transport auto`): its tunnel goes through a proxy the test cuts and restores.
let tb: TestBucket;
let cp: CpProcess;
let proxy: TcpProxy;
const procs: OkesuProcess[] = [];
const track = (p: OkesuProcess): OkesuProcess => (procs.push(p), p);

beforeAll(async () => {
  tb = await jobsBucket('e2e-jobs-hybrid');
  cp = await startJobsCp(tempDir('jobs-hybrid-cp'), tb);
  proxy = await startTcpProxy({ host: '127.0.0.1', port: cp.port });
}, 60_000);
afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
  await stop(cp?.proc, 'SIGKILL');
  await proxy?.close();
  tb?.bucket.close();
});

describe('a hybrid daimon (tunnel + bucket)', () => {
  it('keeps a run going through the bucket when its tunnel is cut, dispatches through the bucket while it is down, and back over the tunnel after', async () => {
    const host = 'jh-1';
    const viaProxy = `https://127.0.0.1:${proxy.port}`;
    track(spawnJobsDaimon(tb, tempDir('jobs-hybrid-d'), host, { cp: viaProxy, token: await joinToken(cp) }));
    // Connected first, then its hello says it polls the bucket too.
    const up = await waitHost(cp, host, 'online over its tunnel', (h) => h.state === 'online' && h.connected && h.transport === 'auto');
    expect(up).toMatchObject({ path: 'tunnel', poll_ms: 500 });
    const tail = track(spawnOkesu(['tail', '--json', '--since', '1h'], cp.env));

    // 12 findings 300 ms apart: the cut lands mid-run.
    const long = await dispatch(cp, 'jobs-emit', host, { inputs: { count: 12, every_ms: 300, tag: 'long' } });
    expect(routeOf(long)).toBe('tunnel');
    await waitFor('some findings over the tunnel', async () => (await findingsOf(cp, long.run_id)).length >= 2, 20_000, 100);
    const acceptedBeforeCut = proxy.accepted;
    proxy.cut();
    // The cut is mid-run: the rest of its findings can only come through the bucket.
    expect((await findingsOf(cp, long.run_id)).length).toBeLessThan(12);
    const down = await waitHost(cp, host, 'heard through the bucket', (h) => !h.connected && h.path === 'jobs');
    expect(down.state).toBe('online');

    const { run, events } = await waitRunEnd(cp, long.run_id);
    expect(run.status).toBe('completed');
    expectWholeTranscript(events, 12);
    const findings = await findingsOf(cp, long.run_id);
    expect(findings).toHaveLength(12);
    expect(new Set(findings.map((f) => f.dedup_key)).size).toBe(12);

    // While the tunnel is down, a new dispatch goes to the bucket and completes there.
    const during = await dispatch(cp, 'jobs-emit', host, { inputs: { count: 2, tag: 'during' } });
    expect(routeOf(during)).toBe('jobs');
    const duringEnd = await waitRunEnd(cp, during.run_id);
    expect(duringEnd.run.status).toBe('completed');
    expectWholeTranscript(duringEnd.events, 2);

    // Back: the daimon reconnects by itself and dispatches take the tunnel again.
    proxy.restore();
    await waitHost(cp, host, 'back on its tunnel', (h) => h.connected && h.path === 'tunnel', 45_000);
    expect(proxy.accepted).toBeGreaterThan(acceptedBeforeCut);
    const after = await dispatch(cp, 'jobs-emit', host, { inputs: { count: 2, tag: 'after' } });
    expect(routeOf(after)).toBe('tunnel');
    const afterEnd = await waitRunEnd(cp, after.run_id);
    expect(afterEnd.run.status).toBe('completed');
    expectWholeTranscript(afterEnd.events, 2);

    // tail saw every finding of the three runs exactly once.
    await waitFor('tail printed all 16', () => jsonLines<StoredFinding>(tail).length >= 16, 20_000);
    const tailed = jsonLines<StoredFinding>(tail);
    expect(tailed).toHaveLength(16);
    expect(new Set(tailed.map((f) => f.id)).size).toBe(16);
  }, 120_000);
});
