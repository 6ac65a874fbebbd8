import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../../daimon/scheduler/clock.js';
import type { OrchestrationRunView } from '../../../src/protocol/orchestration-api.js';
import { asTicks, findingRecord, runId, sendEvents, startCp, waitFor, type CpHarness } from '../cp-harness.js';
import { MAX_FINDING_RUNS_IN_FLIGHT } from '../../../src/cp/orchestration/triggers.js';
import { apply, fakeDaimons, stepOf, waitRun } from './orch-helpers.js';

let h: CpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const runs = async (cp: CpHarness): Promise<OrchestrationRunView[]> => (await cp.request('GET', '/v1/orchestration-runs?limit=1000')).body as OrchestrationRunView[];
const at = (hh: number, mm: number): number => new Date(2030, 0, 7, hh, mm, 0, 0).getTime();

describe('cron triggers', () => {
  it('fire at each slot on the injected clock, never twice for one slot across a restart, and do not catch up missed slots', async () => {
    const clock = createManualClock(at(10, 2));
    const cp = await startCp({ options: { clock } });
    h = cp;
    await fakeDaimons(cp, ['web-01'], () => ({ result: { ok: true } }));
    await apply(cp, `
name: every-five
triggers: [{ cron: "*/5 * * * *" }]
steps: [{ id: a, agent: edr, node: web-01, prompt: "slot {{trigger.scheduled_at}}" }]
`);
    await clock.advanceTo(at(10, 4));
    expect(await runs(cp)).toHaveLength(0);
    await clock.advanceTo(at(10, 5));
    const [first] = await waitFor(async () => ((await runs(cp)).length === 1 ? runs(cp) : undefined));
    expect(first).toMatchObject({ name: 'every-five', triggered_by: 'cron:*/5 * * * *', trigger: { cron: '*/5 * * * *', scheduled_at: at(10, 5) } });
    expect(stepOf(await waitRun(cp, first?.id as string), 'a').prompt).toBe(`slot ${at(10, 5)}`);

    // A new CP on the same state whose clock lags behind the slot already fired: that slot does not fire again.
    await cp.cp.stop();
    const lagging = createManualClock(at(10, 3));
    const again = await startCp({ stateDir: cp.stateDir, options: { clock: lagging } });
    h = again;
    await lagging.advanceTo(at(10, 9));
    expect(await runs(again)).toHaveLength(1);
    await lagging.advanceTo(at(10, 10));
    await waitFor(async () => (await runs(again)).length === 2);

    // Down across 10:15 and 10:20: those slots are not caught up; the next one fires.
    await again.cp.stop();
    const later = createManualClock(at(10, 22));
    const third = await startCp({ stateDir: cp.stateDir, options: { clock: later } });
    h = third;
    await later.advanceTo(at(10, 24));
    expect(await runs(third)).toHaveLength(2);
    await later.advanceTo(at(10, 25));
    const all = await waitFor(async () => ((await runs(third)).length === 3 ? runs(third) : undefined));
    expect(all.map((r) => r.trigger['scheduled_at'])).toEqual([at(10, 25), at(10, 10), at(10, 5)]);
  });

  it('re-arms when the orchestration is applied again with another schedule', async () => {
    const clock = createManualClock(at(10, 2));
    const cp = await startCp({ options: { clock } });
    h = cp;
    await apply(cp, 'name: sched\ntriggers: [{ cron: "0 * * * *" }]\nsteps: [{ id: a, agent: edr, node: web-01 }]\n');
    await apply(cp, 'name: sched\ntriggers: [{ cron: "30 10 * * *" }]\nsteps: [{ id: a, agent: edr, node: web-01 }]\n');
    await clock.advanceTo(at(10, 31));
    const fired = await waitFor(async () => ((await runs(cp)).length === 1 ? runs(cp) : undefined));
    expect(fired[0]?.trigger['scheduled_at']).toBe(at(10, 30));
    await clock.advanceTo(at(11, 1));
    expect(await runs(cp)).toHaveLength(1);
  });
});

describe('finding triggers', () => {
  it('start one run per matching new finding with the finding under trigger, and never on findings of their own runs', async () => {
    const cp = await startCp();
    h = cp;
    // The orchestration's own agent runs report a HIGH edr finding too: that must not start another run.
    const [web] = await fakeDaimons(cp, ['web-01'], () => ({ findings: [{ title: 'seen again', resource: 'pid:1' }], result: {} }));
    await apply(cp, `
name: on-high
inputs: { host: { type: string, required: true } }
triggers:
  - finding: "finding.severity in ['HIGH','CRITICAL'] && finding.agent == 'edr'"
steps:
  - { id: look, agent: edr, node: "{{trigger.host}}", prompt: "look at {{trigger.title}} ({{trigger.severity}})" }
`);
    const monitor = runId();
    await sendEvents(web?.tunnel as never, asTicks([
      findingRecord(monitor, 1, { title: 'c2 beacon', severity: 'CRITICAL' }),
      findingRecord(monitor, 2, { title: 'odd cron', severity: 'LOW' }),
      findingRecord(monitor, 3, { title: 'miner', severity: 'HIGH' }),
    ]));
    const other = runId();
    await sendEvents(web?.tunnel as never, asTicks([{ ...findingRecord(other, 1, { title: 'not edr' }), event: { ...findingRecord(other, 1, { title: 'not edr' }).event, agent: 'sre' } }]));

    const triggered = await waitFor(async () => {
      const list = await runs(cp);
      return list.length === 2 && list.every((r) => r.status === 'completed') ? list : undefined;
    });
    const prompts = triggered.map((r) => stepOf(r, 'look').prompt).sort();
    expect(prompts).toEqual(['look at c2 beacon (CRITICAL)', 'look at miner (HIGH)']);
    for (const r of triggered) {
      expect(r.triggered_by).toMatch(/^finding:\d+$/);
      expect(r.trigger).toMatchObject({ host: 'web-01', agent: 'edr', run_id: monitor });
    }
    // the findings the two runs reported are stored; give a trigger the chance to (wrongly) fire on them
    await waitFor(async () => (await cp.admin.getRun(stepOf(triggered[0] as OrchestrationRunView, 'look').hosts[0]?.run_id as string)).findings === 1);
    await sendEvents(web?.tunnel as never, asTicks([findingRecord(runId(), 1, { severity: 'INFO', title: 'barrier' })]));
    expect(await runs(cp)).toHaveLength(2);
  });

  it('keeps at most MAX_FINDING_RUNS_IN_FLIGHT triggered runs going: a flood of matches does not flood the fleet', async () => {
    const cp = await startCp();
    h = cp;
    const [web] = await fakeDaimons(cp, ['web-01'], () => ({ result: {} }));
    // Each triggered run waits for an approval, so it stays in flight.
    await apply(cp, `
name: on-any
triggers: [{ finding: "finding.agent == 'edr'" }]
steps: [{ id: gate, agent: edr, node: web-01, approval: required }]
`);
    const monitor = runId();
    const flood = Array.from({ length: MAX_FINDING_RUNS_IN_FLIGHT + 5 }, (_, i) => findingRecord(monitor, i + 1, { title: `beacon ${i}`, severity: 'HIGH' }));
    await sendEvents(web?.tunnel as never, asTicks(flood));
    const started = await waitFor(async () => {
      const list = await runs(cp);
      return list.length >= MAX_FINDING_RUNS_IN_FLIGHT && list.every((r) => r.status === 'approval_required') ? list : undefined;
    });
    // A later barrier finding is matched too and dropped at the cap: still no more than the limit.
    await sendEvents(web?.tunnel as never, asTicks([findingRecord(runId(), 1, { title: 'barrier', severity: 'HIGH' })]));
    expect(started).toHaveLength(MAX_FINDING_RUNS_IN_FLIGHT);
    expect(await runs(cp)).toHaveLength(MAX_FINDING_RUNS_IN_FLIGHT);
  });

  it('ignores a filter that fails to evaluate, without failing the ingest', async () => {
    const cp = await startCp();
    h = cp;
    const [web] = await fakeDaimons(cp, ['web-01'], () => ({}));
    await apply(cp, 'name: broken\ntriggers: [{ finding: "finding.title > 3" }]\nsteps: [{ id: a, agent: edr, node: web-01 }]\n');
    const ack = await sendEvents(web?.tunnel as never, asTicks([findingRecord(runId(), 1), findingRecord(runId(), 1)]));
    expect(ack['type']).toBe('ack');
    expect(await runs(cp)).toHaveLength(0);
  });
});
