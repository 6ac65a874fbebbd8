import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDaimon, type Daimon } from '../../daimon/daimon.js';
import { captureLogger, tempDir } from '../daimon/core/helpers.js';
import {
  findingRecord, heartbeat, record, runId, sendEvents, startCp, tickStart, waitFor, type CpHarness, type HostIdentity,
} from './cp-harness.js';

let h: CpHarness;
let web01: HostIdentity;
beforeEach(async () => {
  h = await startCp();
  web01 = await h.registerHost('web-01');
});
afterEach(async () => {
  await h.close();
});

const runExists = async (id: string): Promise<number> => (await h.request('GET', `/v1/runs/${id}`)).status;

describe('which runs a tunnel peer may write to', () => {
  it('refuses events for a run id the CP never dispatched: acknowledged (the spool drains), an error frame names it, nothing stored', async () => {
    const tunnel = await h.connectHost(web01);
    const stray = runId();
    const from = tunnel.frames.length;
    const records = [record(stray, 1, { type: 'run_start' }), findingRecord(stray, 2), record(stray, 3, { type: 'run_end', status: 'completed' })];
    const ack = await sendEvents(tunnel, records);
    expect(ack['records']).toEqual(records.map((r) => ({ run_id: r.run_id, seq: r.seq })));
    const error = await tunnel.next((f) => f.type === 'error', { from });
    expect(error['code']).toBe('OKS_ERR_RUN_UNKNOWN');
    expect(error['message']).toContain(`${stray} (not dispatched by the CP and not a tick of this host)`);

    expect(await runExists(stray)).toBe(404);
    expect((await h.admin.listRuns()).map((r) => r.run_id)).not.toContain(stray);
    expect((await h.admin.findings()).findings).toHaveLength(0);
    // the tunnel stays up and keeps working
    tunnel.send(heartbeat(1));
    await tunnel.next((f) => f.type === 'heartbeat_ack' && f['seq'] === 1);
    expect(tunnel.isOpen()).toBe(true);
  });

  it('refuses events for a run dispatched to another host, even one announced as a tick, and says so', async () => {
    const web02 = await h.registerHost('web-02');
    const [tunnel01, tunnel02] = [await h.connectHost(web01), await h.connectHost(web02)];
    const run = (await h.admin.createRun({ agent: 'edr', host: 'web-01' })).run_id;
    await tunnel01.nextOfType('dispatch');
    const from = tunnel02.frames.length;
    await sendEvents(tunnel02, [tickStart(run, 1), findingRecord(run, 2), record(run, 3, { type: 'run_end', status: 'failed' })]);
    const error = await tunnel02.next((f) => f.type === 'error', { from });
    expect(error).toMatchObject({ code: 'OKS_ERR_RUN_UNKNOWN', message: expect.stringContaining(`${run} (dispatched to another host)`) });

    expect(await h.admin.getRun(run)).toMatchObject({ host: 'web-01', status: 'dispatched', events: 0, findings: 0 });
    expect((await h.admin.findings()).findings).toHaveLength(0);
    // the owner still writes its run
    await sendEvents(tunnel01, [record(run, 1, { type: 'run_start' })]);
    expect(await h.admin.getRun(run)).toMatchObject({ host: 'web-01', status: 'running', events: 1 });
  });

  it('binds a tick to the host that announced it: another host cannot write to it afterwards', async () => {
    const web02 = await h.registerHost('web-02');
    const [tunnel01, tunnel02] = [await h.connectHost(web01), await h.connectHost(web02)];
    const tick = runId();
    await sendEvents(tunnel01, [tickStart(tick, 1, 'certwatch'), findingRecord(tick, 2)]);
    expect(await h.admin.getRun(tick)).toMatchObject({ host: 'web-01', agent: 'certwatch', status: 'running', events: 2, findings: 1 });
    const from = tunnel02.frames.length;
    await sendEvents(tunnel02, [record(tick, 3, { type: 'run_end', status: 'completed' })]);
    await tunnel02.next((f) => f.type === 'error' && f['code'] === 'OKS_ERR_RUN_UNKNOWN', { from });
    expect(await h.admin.getRun(tick)).toMatchObject({ host: 'web-01', status: 'running', events: 2 });
  });
});

describe('a real daimon’s scheduled tick', () => {
  let daimon: Daimon | undefined;
  afterEach(async () => {
    await daimon?.stop();
  });

  it('lands at the CP as a run of its host, with its finding', async () => {
    const state = tempDir('tick-state');
    const agents = join(state, 'agents');
    mkdirSync(agents);
    const script = `process.stdout.write(JSON.stringify({ type: 'finding', severity: 'low', title: 'Tick saw something', category: 'other', resource: 'x:/tick' }) + '\\n')`;
    writeFileSync(join(agents, 'ticker.md'), `---\nname: ticker\nmode: daemon\ninterval: 1h\ncommand: ${JSON.stringify(['node', '-e', script])}\n---\nTick.\n`);
    const { token } = await h.admin.createToken({ kind: 'join', uses: 1 });
    daimon = createDaimon(
      { stateDir: state, cp: h.url, token, hostname: 'tick-01', agentDirs: [agents], builtinAgents: false, enable: ['ticker'], version: '1.0.0' },
      { log: captureLogger('warn').log, env: { PATH: process.env.PATH } },
    );
    await daimon.start();
    const run = await waitFor(async () => (await h.admin.listRuns()).find((r) => r.host === 'tick-01' && r.status === 'completed'), 20_000, 'the tick run to complete');
    expect(run).toMatchObject({ agent: 'ticker', created_by: 'daimon:tick-01', findings: 1 });
    const page = await h.admin.runEvents(run.run_id, 0, 0);
    expect(page.events.map((e) => e.type)).toEqual(['run_start', 'tick_start', 'finding', 'tick_done', 'run_end']);
    expect(page.events[0]).toMatchObject({ trigger: 'tick', host: 'tick-01' });
    expect((await h.admin.findings({ host: 'tick-01' })).findings).toMatchObject([{ title: 'Tick saw something', run_id: run.run_id }]);
  });
});
