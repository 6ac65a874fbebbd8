import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { createPalette, hostStateStyle, noColor, severityStyle, statusStyle } from '../../../tui/theme.js';

const probe = fileURLToPath(new URL('../support/no-color-probe.tsx', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));

/** The fleet frame as a colour-capable terminal would get it (FORCE_COLOR=3), with `env` added. */
function drawn(env: Record<string, string>): string {
  const { NO_COLOR: _drop, ...base } = process.env;
  return execFileSync(process.execPath, ['--import', tsx, probe], { env: { ...base, FORCE_COLOR: '3', ...env }, encoding: 'utf8' });
}

// SGR colour parameters: 30–37, 39, 40–47, 49, 90–97, 100–107, and 38;… / 48;… extended colours.
// eslint-disable-next-line no-control-regex -- looking for escape sequences
const COLOUR_SGR = /\u001B\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m/;

describe('NO_COLOR', () => {
  test('the palette has no colours when NO_COLOR is set (non-empty), and colours otherwise', () => {
    expect(noColor({ NO_COLOR: '1' })).toBe(true);
    expect(noColor({ NO_COLOR: '' })).toBe(false);
    expect(Object.values(createPalette({ NO_COLOR: '1' })).every((c) => c === undefined)).toBe(true);
    expect(Object.values(createPalette({})).every((c) => typeof c === 'string')).toBe(true);
  });

  test('every style keeps its glyph and word without colour', () => {
    const p = createPalette({ NO_COLOR: 'yes' });
    expect(hostStateStyle('stale', p)).toEqual({ color: undefined, glyph: '◐', word: 'stale' });
    expect(severityStyle('CRITICAL', p)).toEqual({ color: undefined, glyph: '◆', word: 'CRIT' });
    expect(statusStyle('waiting_approval', p)).toEqual({ color: undefined, glyph: '⏸', word: 'waiting' });
  });

  test('the drawn console has colour codes, and none under NO_COLOR (the words and glyphs stay)', () => {
    const coloured = drawn({});
    expect(coloured).toMatch(COLOUR_SGR);
    const plain = drawn({ NO_COLOR: '1' });
    expect(plain).not.toMatch(COLOUR_SGR);
    expect(plain).toContain('\u001B[7m'); // the selected row is still inverse (not a colour)
    expect(plain).toContain('◐ stale');
    expect(plain).toContain('○ offline');
  }, 30_000);
});
