import { afterEach, describe, expect, it } from 'vitest';
import { renderConsole, type RenderedConsole } from '../../support/frame.js';
import { CONNECTED, snapshot } from '../findings/fixtures.js';
import { agentRun, approvalRun, fanOutRun, NOW, orchRun, runId } from '../run/fixtures.js';

const SNAP = '../../../../snapshots';
let c: RenderedConsole | undefined;
afterEach(() => c?.unmount());

const DONE = orchRun('o_01JHK3Q3DONE000000000000AB', { name: 'nightly-inventory', status: 'completed', created_at: NOW - 7_200_000, ended_at: NOW - 7_000_000 });

async function runs(role?: 'viewer' | 'operator', width = 100) {
  c = await renderConsole({
    role,
    width,
    height: width < 100 ? 24 : 30,
    events: [
      CONNECTED,
      snapshot({
        orchestrationRuns: [fanOutRun(), approvalRun(), DONE],
        runs: [
          agentRun(1, { status: 'running', ended_at: null, host: 'web-02' }),
          agentRun(2, { status: 'failed', error: 'timed out after 5m', host: 'db-01', agent: 'sre-health' }),
          agentRun(3, { findings: 4 }),
          agentRun(4, { status: 'cancelled', host: 'edge-03', error: 'cancelled by alice' }),
        ],
      }),
      { type: 'ui/jump', view: 'runs' },
    ],
  });
  return c;
}

describe('runs view', () => {
  it('lists orchestration runs newest first with state, current step and steps done', async () => {
    const c = await runs();
    expect(c.frame()).toContain('[orchestration runs]');
    expect(c.frame()).toMatch(/fleet-ioc-sweep\s+… running\s+sweep\s+1\/3/);
    expect(c.frame()).toMatch(/c2-callback-triage\s+⏸ approval\s+contain\s+1\/3/);
    expect(c.frame()).toMatch(/nightly-inventory\s+✓ completed/);
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/runs-orchestrations.txt`);
  });

  it('keeps run ids whole at 80 columns (the start time gives way)', async () => {
    const c = await runs(undefined, 80);
    expect(c.frame()).toContain(fanOutRun().id);
    expect(c.frame()).toContain(DONE.id);
    expect(c.frame()).not.toContain('STARTED');
  });

  it('tab switches to agent runs: host, agent, status, findings, age and error', async () => {
    const c = await runs();
    await c.press('tab');
    expect(c.frame()).toContain('[agent runs]');
    expect(c.frame()).toMatch(/db-01\s+sre-health\s+✗ failed\s+2\s+2m timed out after 5m/);
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/runs-agents.txt`);
  });

  it('enter opens the selected run: an orchestration run, or an agent run', async () => {
    const c = await runs();
    await c.press('j', 'enter');
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'run', key: `orch:${approvalRun().id}` });
    await c.press('esc', 'tab', 'j', 'enter');
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'run', key: `agent:${runId(2)}` });
  });

  it('c cancels the selected run after a confirm; a run that ended says so', async () => {
    const c = await runs();
    await c.press('c');
    expect(c.frame()).toContain(`Cancel ${fanOutRun().id}? [y/n]`);
    await c.press('y');
    expect(c.calls.filter((x) => x.name === 'cancelOrchestrationRun').map((x) => x.args)).toEqual([[fanOutRun().id]]);
    await c.press('j', 'j', 'c');
    expect(c.frame()).toContain(`${DONE.id} already ended (completed)`);
    await c.press('tab', 'c', 'y');
    expect(c.calls.filter((x) => x.name === 'cancelRun').map((x) => x.args)).toEqual([[runId(1)]]);
  });

  it('shows a viewer why cancel is disabled', async () => {
    const c = await runs('viewer');
    await c.press('c');
    expect(c.frame()).toContain('cancel the run — needs the operator role; you are viewer');
    expect(c.frame()).not.toContain('[y/n]');
  });
});
