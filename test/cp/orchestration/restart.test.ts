import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openStore } from '../../../src/cp/store/store.js';
import { HEARTBEAT_MS, record, startCp, type CpHarness } from '../cp-harness.js';
import { FakeDaimon, getRun, start, stepOf, waitRun } from './orch-helpers.js';

let h: CpHarness;
afterEach(async () => {
  await h.close();
});

const SPEC = 'name: resumable\nsteps:\n  - { id: a, agent: edr, node: web-01 }\n  - { id: b, agent: edr, node: web-01, prompt: "after {{a.result.v}}" }\n';

describe('a CP restart mid-run', () => {
  it('resumes from the store: the agent run in flight reports back to the new CP, completes its step, and the run goes on', async () => {
    h = await startCp();
    const web = new FakeDaimon(h, await h.registerHost('web-01'), (env) => (env.prompt === '' ? { hold: true } : { result: {} }));
    await web.connect();
    const begun = await start(h, { spec: SPEC });
    const inFlight = stepOf(begun, 'a').hosts[0]?.run_id as string;
    expect(inFlight).toMatch(/^r_/);

    web.tunnel.terminate();
    await h.restart();
    const resumed = await getRun(h, begun.id);
    expect(resumed.status).toBe('running');
    expect(stepOf(resumed, 'a').hosts[0]).toMatchObject({ status: 'running', run_id: inFlight });

    await web.connect();
    await web.finish(inFlight, { result: { v: 'seven' } });
    const run = await waitRun(h, begun.id);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'a').result).toEqual({ v: 'seven' });
    expect(stepOf(run, 'b').prompt).toBe('after seven');
  });

  it('applies an agent run that ended while the CP was down when it starts again', async () => {
    h = await startCp();
    const web = new FakeDaimon(h, await h.registerHost('web-01'), (env) => (env.prompt === '' ? { hold: true } : { result: {} }));
    await web.connect();
    const begun = await start(h, { spec: 'name: one\nsteps:\n  - { id: a, agent: edr, node: web-01 }\n' });
    const inFlight = stepOf(begun, 'a').hosts[0]?.run_id as string;
    web.tunnel.terminate();
    await h.cp.stop();
    // The run's end lands in the store while no CP runs (as a bucket upload would be read at start).
    const store = openStore(join(h.stateDir, 'cp.db'));
    store.ingest.ingest('web-01', [
      record(inFlight, 2, { type: 'orchestration_result', attributes: { v: 'late' } }),
      record(inFlight, 3, { type: 'run_end', status: 'completed' }),
    ], Date.now());
    store.close();
    await h.boot();
    const run = await waitRun(h, begun.id);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'a').hosts[0]).toMatchObject({ status: 'completed', result: { v: 'late' } });
  });

  it('fails a host run whose host stays offline past the offline threshold, saying so, and cancels the agent run', async () => {
    h = await startCp();
    const web = new FakeDaimon(h, await h.registerHost('web-01'), () => ({ hold: true }));
    await web.connect();
    const begun = await start(h, { spec: SPEC });
    const inFlight = stepOf(begun, 'a').hosts[0]?.run_id as string;
    web.tunnel.terminate();
    await h.restart();
    const run = await waitRun(h, begun.id, undefined, 12 * HEARTBEAT_MS + 6000);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'a').hosts[0]?.error).toMatch(/^host web-01 went offline \(not heard from for over \d+ s\) while agent run r_\w+ was in flight/);
    expect(stepOf(run, 'b').status).toBe('skipped');
    expect((await h.admin.getRun(inFlight)).status).toBe('cancelled');
  }, 15_000);
});
