import * as lib from '@alcalzone/ansi-tokenize';
import sliceAnsi from 'slice-ansi';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { clipLine } from '../../../tui/run/ink-clip.js';

/** Dim and bold at once: slice-ansi keeps only the later of two intensity codes. */
const DIM_BOLD = '\u001B[2m\u001B[1mdim bold\u001B[22m\u001B[0m reset \u001B[38;5;208m256\u001B[39m';

const LINES = [
  '',
  'plain text',
  '\u001B[1mbold\u001B[22m then \u001B[31mred \u001B[7minverse\u001B[27m\u001B[39m end',
  DIM_BOLD,
  '› \u001B[7m\u001B[32m● online\u001B[39m  con-00001  日本語 wide\u001B[27m',
  '\u001B[33mopen to the end',
  '  STATE     HOST↑  │ open ⚠ cert ✗ cert … ─┼─ ▲▼ ★ ©®° ±µ é ß',
  'e\u0301 combining, 👍🏽 emoji, 🇩🇪 flag, ✔\uFE0F vs16, a\u200Db zwj',
  '\u001B[1;31m compound \u001B]8;;https://x\u0007link\u001B]8;;\u0007 tail',
];

/** What Ink draws from a line: its chars with their styles, written back as Output does. */
const drawn = (line: string): string => lib.styledCharsToString(lib.styledCharsFromTokens(lib.tokenize(line)));

describe('clipLine (the console bundle swaps it into Ink’s Output for slice-ansi)', () => {
  it('keeps a line that lies wholly inside the clip, which Ink draws as it draws the sliced one', () => {
    for (const line of LINES) {
      const width = stringWidth(line);
      expect(clipLine(line, 0, width, width)).toBe(line);
      if (line !== DIM_BOLD) expect(drawn(clipLine(line, 0, width, width))).toBe(drawn(sliceAnsi(line, 0, width)));
    }
  });

  it('keeps both of dim and bold where slice-ansi drops one (as Ink draws the line outside a clipping box)', () => {
    const width = stringWidth(DIM_BOLD);
    expect(drawn(sliceAnsi(DIM_BOLD, 0, width))).not.toContain('\u001B[2m');
    expect(drawn(clipLine(DIM_BOLD, 0, width, width))).toBe(drawn(DIM_BOLD));
    expect(drawn(DIM_BOLD)).toContain('\u001B[2m');
  });

  it('cuts any other line exactly as slice-ansi does', () => {
    for (const line of LINES) {
      const width = stringWidth(line);
      for (const [from, to] of [[1, width], [0, width - 3], [2, 5]] as const) {
        expect(clipLine(line, from, to, width)).toBe(sliceAnsi(line, from, to));
      }
    }
  });
});
