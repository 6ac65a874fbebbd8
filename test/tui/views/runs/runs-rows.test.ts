import { describe, expect, it } from 'vitest';
import { createPalette } from '../../../../tui/theme.js';
import { agentRunList, agentRunRow, currentStep, matchesFields, orchestrationRunColumns, orchestrationRunList, orchestrationRunRow, stepProgress } from '../../../../tui/views/runs/runs-rows.js';
import { agentRun, approvalRun, fanOutRun, NOW, orchRun, runId, step } from '../run/fixtures.js';

const colours = createPalette({});

describe('matchesFields', () => {
  it('matches key:value exactly on a named field and bare words anywhere', () => {
    const fields = { host: 'web-01', agent: 'host-check', status: 'failed' };
    expect(matchesFields(fields, 'host:WEB-01 check')).toBe(true);
    expect(matchesFields(fields, 'host:web')).toBe(false);
    expect(matchesFields(fields, 'fail')).toBe(true);
    expect(matchesFields(fields, 'db')).toBe(false);
    expect(matchesFields(fields, 'other:x')).toBe(false); // an unknown key is a plain word
  });
});

describe('orchestration runs', () => {
  it('knows the current step and the steps done', () => {
    expect(currentStep(fanOutRun())?.id).toBe('sweep');
    expect(currentStep(approvalRun())?.id).toBe('contain');
    expect(currentStep(orchRun('o1', { steps: [step('a'), step('b')] }))).toBeUndefined();
    expect(currentStep(orchRun('o1', { status: 'completed', steps: [step('a', { status: 'completed' }), step('b', { status: 'skipped' })] }))?.id).toBe('b');
    expect(stepProgress(fanOutRun())).toEqual({ done: 1, total: 3 });
  });

  it('lists newest first, filtered, and maps id, name, state glyph + word, step, progress, started, age', () => {
    const runs = new Map([fanOutRun(), approvalRun(), orchRun('o_old', { created_at: NOW - 3_600_000, status: 'cancelled' })].map((r) => [r.id, r]));
    // Same start time: the later id (ids sort by time) first.
    expect(orchestrationRunList(runs, '').map((r) => r.id)).toEqual([fanOutRun().id, approvalRun().id, 'o_old']);
    expect(orchestrationRunList(runs, 'state:approval_required').map((r) => r.name)).toEqual(['c2-callback-triage']);
    expect(orchestrationRunList(runs, 'sweep').map((r) => r.name)).toEqual(['fleet-ioc-sweep', 'fleet-ioc-sweep']);
    const row = orchestrationRunRow(approvalRun(), NOW, true, colours);
    expect(row.cells).toEqual([approvalRun().id, 'c2-callback-triage', '⏸ approval', 'contain', '1/3', '11:55:00', '5m']);
    expect(row.colors?.[2]).toBe('yellow');
    expect(orchestrationRunRow(orchRun('o_old', { status: 'cancelled' }), NOW, true, colours).dim).toBe(true);
    // Narrow: no start time, as many cells as columns.
    expect(orchestrationRunRow(approvalRun(), NOW, false, colours).cells).toEqual([approvalRun().id, 'c2-callback-triage', '⏸ approval', 'contain', '1/3', '5m']);
    expect(orchestrationRunColumns(false).map((c) => c.id)).toEqual(['id', 'name', 'state', 'step', 'progress', 'age']);
    expect(orchestrationRunColumns(true)).toHaveLength(7);
  });
});

describe('agent runs', () => {
  it('lists newest first, filtered by host / status, and maps the row with its error', () => {
    const runs = new Map([agentRun(1), agentRun(2, { host: 'db-01', status: 'failed', error: 'timed out after 5m' }), agentRun(3)].map((r) => [r.run_id, r]));
    expect(agentRunList(runs, '').map((r) => r.run_id)).toEqual([runId(1), runId(2), runId(3)]);
    expect(agentRunList(runs, 'host:db-01').map((r) => r.run_id)).toEqual([runId(2)]);
    expect(agentRunList(runs, 'status:completed').length).toBe(2);
    const row = agentRunRow(runs.get(runId(2))!, NOW, colours);
    expect(row.cells).toEqual([runId(2), 'db-01', 'host-check', '✗ failed', '2', '2m', 'timed out after 5m']);
    expect(row.colors?.[6]).toBe('red');
  });
});
