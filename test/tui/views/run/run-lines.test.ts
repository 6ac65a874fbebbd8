import { describe, expect, it } from 'vitest';
import { createPalette } from '../../../../tui/theme.js';
import { MAX_DOT_LINES, MAX_FAILED, stepLines } from '../../../../tui/views/run/run-lines.js';
import { NOW, step, stepHost } from './fixtures.js';

const plain = createPalette({ NO_COLOR: '1' });
const text = (line: { segs: { text: string }[] }) => line.segs.map((s) => s.text).join('');

describe('stepLines', () => {
  it('keeps a 1,000-host fan-out to a few dot lines, a bar and the first failures', () => {
    const hosts = Array.from({ length: 1000 }, (_, i) =>
      stepHost(`h${i}`, i % 100 === 7 ? 'failed' : i < 600 ? 'completed' : 'pending', i, i % 100 === 7 ? `boom ${i}` : null),
    );
    const lines = stepLines(step('sweep', { status: 'running', hosts, started_at: NOW - 60_000 }), undefined, 0, 80, NOW, plain).map(text);
    const dots = lines.filter((l) => /^ {4}[●✗…◌]+( \+\d+ more)?$/.test(l));
    expect(dots).toHaveLength(MAX_DOT_LINES);
    expect(dots.at(-1)).toMatch(/\+\d+ more$/);
    const shown = dots.join('').replace(/[^●✗…◌]/g, '').length;
    expect(shown + Number(/\+(\d+) more$/.exec(dots.at(-1)!)![1])).toBe(1000);
    expect(lines).toContain('    [██████░░░░] 604/1000  10 failed');
    expect(lines.filter((l) => l.startsWith('    ✗ h'))).toHaveLength(MAX_FAILED);
    expect(lines).toContain('      +5 more failed');
    expect(lines.every((l) => l.length <= 80)).toBe(true);
  });

  it('lists up to three hosts one per line, and marks the cursor', () => {
    const s = step('scan', { status: 'completed', hosts: [stepHost('a', 'completed', 1), stepHost('b', 'failed', 2, 'exit 2')] });
    const lines = stepLines(s, { step: 0, host: 1 }, 0, 100, NOW, plain);
    expect(lines.map(text)).toEqual(['✓ scan  host-check  completed', `    ● a completed  r_01JHK3Q40001ABCDEFGHJKMNPQ`, `    ✗ b failed  r_01JHK3Q40002ABCDEFGHJKMNPQ · exit 2`]);
    expect(lines.map((l) => l.cursor === true)).toEqual([false, false, true]);
  });

  it('shows a step error and a skipped step plainly', () => {
    expect(stepLines(step('x', { status: 'failed', error: 'when: bad path' }), undefined, 0, 100, NOW, plain).map(text)).toEqual(['✗ x  host-check  failed', '    ✗ when: bad path']);
    expect(stepLines(step('y', { status: 'skipped' }), { step: 0, host: null }, 0, 100, NOW, plain)[0]?.cursor).toBe(true);
  });
});
