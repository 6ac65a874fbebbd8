import { describe, expect, test } from 'vitest';
import { createRing } from '../../../../tui/store/ring.js';
import { createPalette } from '../../../../tui/theme.js';
import { findingRows, hostFacts, hostFindings, hostRuns, runRows } from '../../../../tui/views/host/host-rows.js';
import { finding, run } from '../../store/fixtures.js';
import { hostAt } from '../../support/fleet-data.js';
import { FRAME_NOW } from '../../support/frame.js';

const p = createPalette({ NO_COLOR: '1' });

describe('host rows', () => {
  test('facts read without colour', () => {
    const facts = hostFacts(hostAt('db-01', 95_000, { state: 'stale', connected: false, labels: {} }), FRAME_NOW, p);
    expect(Object.fromEntries(facts.map((f) => [f.label, f.value]))).toMatchObject({
      state: '◐ stale',
      heartbeat: '1m ago (seq 7)',
      labels: '(none)',
    });
  });

  test('runs of the host only, newest first, limited', () => {
    const runs = new Map(
      [run('a', 10, { host: 'h' }), run('b', 30, { host: 'h' }), run('c', 20, { host: 'other' }), run('d', 5, { host: 'h' })].map((r) => [r.run_id, r]),
    );
    expect(hostRuns(runs, 'h', 2).map((r) => r.run_id)).toEqual(['b', 'a']);
    expect(runRows(hostRuns(runs, 'h', 1), 30, p)[0]!.cells.slice(0, 3)).toEqual(['… running', 'proc-audit', 'b']);
  });

  test('findings of the host from the feed, newest first, limited; triaged ones dimmed', () => {
    const feed = createRing(100, [finding(1, { host: 'h' }), finding(2, { host: 'x' }), finding(3, { host: 'h', status: 'resolved' }), finding(4, { host: 'h' })]);
    expect(hostFindings(feed, 'h', 2).map((f) => f.id)).toEqual([4, 3]);
    const rows = findingRows(hostFindings(feed, 'h', 3), 2000, p);
    expect(rows.map((r) => r.dim)).toEqual([false, true, false]);
    expect(rows[1]!.cells[2]).toBe('✓ resolved');
  });
});
