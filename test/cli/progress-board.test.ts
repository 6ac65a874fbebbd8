import { describe, expect, it } from 'vitest';
import { createProgressBoard } from '../../src/cli/progress-board.js';
import { Capture } from './helpers.js';

describe('the progress board', () => {
  it('redraws one line per key in place, cut to the width, made safe, and erases itself', () => {
    const out = Object.assign(new Capture(), { isTTY: true, columns: 21 });
    const board = createProgressBoard(out);
    board.set('a', 'a  connecting…');
    board.set('b', 'b  connecting…');
    board.set('a', 'a  a very long line that does not fit');
    board.set('b', 'b  \x1b[31mred\x07');
    board.clear();
    expect(out.chunks).toEqual([
      '\r\x1b[2Ka  connecting…\n',
      '\x1b[1A\r\x1b[2Ka  connecting…\n\r\x1b[2Kb  connecting…\n',
      '\x1b[2A\r\x1b[2Ka  a very long line…\n\r\x1b[2Kb  connecting…\n',
      '\x1b[2A\r\x1b[2Ka  a very long line…\n\r\x1b[2Kb  \\x1b[31mred\\x07\n',
      '\x1b[2A\r\x1b[J',
    ]);
  });
});
