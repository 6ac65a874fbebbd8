import { describe, expect, it } from 'vitest';
import { createPalette } from '../../../../tui/theme.js';
import { cursorRunId, hostDot, hostProgress, progressBar, runCursors, stepDuration, triggerText, waitingStep } from '../../../../tui/views/run/run-rows.js';
import { approvalRun, fanOutRun, halfDoneHosts, NOW, runId, step } from './fixtures.js';

const colours = createPalette({});
const plain = createPalette({ NO_COLOR: '1' });

describe('fan-out dots and bar', () => {
  it('gives every host state its own glyph, so the dots read without colour', () => {
    const glyphs = (['completed', 'failed', 'running', 'pending'] as const).map((s) => hostDot(s, plain).glyph);
    expect(glyphs).toEqual(['●', '✗', '…', '◌']);
    expect(new Set(glyphs).size).toBe(4);
    expect(hostDot('failed', colours).color).toBe('red');
    expect(hostDot('failed', plain).color).toBeUndefined();
  });

  it('counts finished hosts (completed or failed) and draws the bar, never full before the end', () => {
    expect(hostProgress(halfDoneHosts())).toEqual({ done: 5, failed: 1, total: 10 });
    expect(progressBar(5, 10, 10)).toBe('[█████░░░░░] 5/10');
    expect(progressBar(6, 10, 10)).toBe('[██████░░░░] 6/10');
    expect(progressBar(999, 1000, 10)).toBe('[█████████░] 999/1000');
    expect(progressBar(10, 10, 10)).toBe('[██████████] 10/10');
    expect(progressBar(0, 0, 4)).toBe('[░░░░] 0/0');
  });
});

describe('run cursors', () => {
  it('walks every host of every step, and a step on its own while it has no hosts', () => {
    const run = fanOutRun();
    const cursors = runCursors(run);
    expect(cursors.length).toBe(1 + 10 + 1);
    expect(cursors[0]).toEqual({ step: 0, host: 0 });
    expect(cursors[3]).toEqual({ step: 1, host: 2 });
    expect(cursors[11]).toEqual({ step: 2, host: null });
    expect(cursorRunId(run, cursors[3])).toBe(runId(3));
    expect(cursorRunId(run, cursors[10])).toBeUndefined(); // web-10 is pending: no run yet
    expect(cursorRunId(run, cursors[11])).toBeUndefined();
  });

  it('finds the waiting step and describes the trigger and durations', () => {
    expect(waitingStep(approvalRun())?.id).toBe('contain');
    expect(waitingStep(fanOutRun())).toBeUndefined();
    expect(triggerText({ finding_id: 4242, host: 'web-03', tags: ['a'] })).toBe('finding_id=4242 host=web-03 tags=["a"]');
    expect(triggerText({})).toBe('-');
    expect(stepDuration(step('x', { started_at: NOW - 5000 }), NOW)).toBe(5000);
    expect(stepDuration(step('x', { started_at: NOW - 5000, ended_at: NOW - 1000 }), NOW)).toBe(4000);
    expect(stepDuration(step('x'), NOW)).toBeUndefined();
  });
});
