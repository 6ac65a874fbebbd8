import { describe, expect, it } from 'vitest';
import { createPalette } from '../../../../tui/theme.js';
import { hostStates, rolloutDot, rolloutLines } from '../../../../tui/views/rollouts/rollout-lines.js';
import type { RunLine } from '../../../../tui/views/run/run-lines.js';
import { FRAME_NOW } from '../../support/frame.js';
import { rollout, rolloutHosts } from './fixtures.js';

const text = (l: RunLine): string => l.segs.map((s) => s.text).join('');
const plain = createPalette({ NO_COLOR: '1' });

describe('rollout lines', () => {
  it('draws one dot per host in batch order, the bar and the counts, readable without colour', () => {
    const r = rollout('ro_00000000000000aa', rolloutHosts(['healthy', 'healthy', 'rolled_back', 'downloading', 'failed', 'pending']));
    const lines = rolloutLines(r, true, 80, FRAME_NOW, plain).map(text);
    expect(lines[0]).toBe('… ro_00000000000000aa  0.2.0  running  by admin · 11:55:00 (5m ago)');
    expect(lines[1]).toBe('    ●●↺…✗◌');
    expect(lines[2]).toBe('    [███████░░░] 4/6  pending 1 · downloading 1 · healthy 2 · rolled_back 1 · failed 1');
  });

  it('spells the dots out from the counts when the hosts are not loaded, and cuts long fleets with +N more', () => {
    const r = rollout('ro_00000000000000bb', rolloutHosts(Array(500).fill('pending')));
    const { hosts: _hosts, ...summary } = r;
    expect(hostStates(summary)).toHaveLength(500);
    const lines = rolloutLines(summary, false, 40, FRAME_NOW, plain).map(text);
    expect(lines.slice(1, 4).every((l) => l.startsWith('    ◌'))).toBe(true);
    expect(lines[3]).toMatch(/◌ \+\d+ more$/);
  });

  it('says why a halted rollout stopped', () => {
    const r = rollout('ro_00000000000000cc', rolloutHosts(['failed', 'pending']), { state: 'halted', halted_reason: 'web-01 failed: offline' });
    expect(rolloutLines(r, false, 80, FRAME_NOW, plain).map(text).at(-1)).toBe('    ✗ halted: web-01 failed: offline');
  });

  it.each([
    ['healthy', '●'], ['failed', '✗'], ['rolled_back', '↺'], ['pending', '◌'], ['staged', '…'],
  ] as const)('%s is %s', (state, glyph) => expect(rolloutDot(state, plain).glyph).toBe(glyph));
});
