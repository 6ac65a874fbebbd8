import * as lib from '@alcalzone/ansi-tokenize';
import { describe, expect, it } from 'vitest';
import { styledCharsFromTokens, styledCharsToString, tokenize } from '../../../tui/run/ink-styled-chars.js';

const LINES = [
  '',
  'plain text',
  '\u001B[1mbold\u001B[22m then \u001B[31mred \u001B[7minverse\u001B[27m\u001B[39m end',
  '\u001B[2m\u001B[1mdim bold\u001B[22m\u001B[0m reset \u001B[38;5;208m256\u001B[39m',
  '› \u001B[7m\u001B[32m● online\u001B[39m  con-00001  日本語 wide\u001B[27m',
  '\u001B[33mopen to the end',
  '  STATE     HOST↑  │ open ⚠ cert ✗ cert … ─┼─ ▲▼ ★ ©®° ±µ é ß',
  'e\u0301 combining, 👍🏽 emoji, 🇩🇪 flag, ✔\uFE0F vs16, a\u200Db zwj',
  '\u001B[m empty SGR \u001B[1;31m compound \u001B]8;;https://x\u0007link\u001B]8;;\u0007 \u001B',
  '\u001B[4294967296m big \u001B[999m unknown \u001B[9',
  '\t tab \u0007 bell \u009B csi',
];

describe('ink-styled-chars (the console bundle swaps these into Ink)', () => {
  it('tokenizes as the library does', () => {
    for (const line of LINES) expect(tokenize(line)).toEqual(lib.tokenize(line));
  });

  it('gives the same chars and styles as @alcalzone/ansi-tokenize', () => {
    for (const line of LINES) {
      const tokens = lib.tokenize(line);
      expect(styledCharsFromTokens(tokens)).toEqual(lib.styledCharsFromTokens(tokens));
    }
  });

  it('writes the same strings, also for cells mixed from several lines as Ink does', () => {
    const all = LINES.flatMap((l) => styledCharsFromTokens(lib.tokenize(l)));
    const blank = { type: 'char' as const, value: ' ', fullWidth: false, styles: [] };
    const mixed = [blank, ...all.slice(0, 20), blank, blank, ...all.slice(30), blank];
    for (const chars of [[], all, mixed, ...LINES.map((l) => styledCharsFromTokens(lib.tokenize(l)))]) {
      expect(styledCharsToString(chars)).toBe(lib.styledCharsToString(chars));
    }
  });
});
