import { describe, expect, it } from 'vitest';
import { LineSplitter, cutUtf8 } from '../../daimon/run/line-splitter.js';
import type { CappedLine } from '../../daimon/run/line-splitter.js';

function split(chunks: string[], max = 8): CappedLine[] {
  const splitter = new LineSplitter(max);
  const lines: CappedLine[] = [];
  for (const chunk of chunks) lines.push(...splitter.push(Buffer.from(chunk)));
  lines.push(...splitter.end());
  return lines;
}

const line = (text: string, truncated = false): CappedLine => ({ text, truncated });

describe('LineSplitter', () => {
  it.each<[string, string[], CappedLine[]]>([
    ['lines in one chunk', ['a\nb\n'], [line('a'), line('b')]],
    ['a line across chunks', ['ab', 'c\nd', 'e\n'], [line('abc'), line('de')]],
    ['CRLF', ['a\r\nb\r\n'], [line('a'), line('b')]],
    ['blank lines', ['\n\na\n'], [line(''), line(''), line('a')]],
    ['a last line without newline', ['a\nb'], [line('a'), line('b')]],
    ['a line of exactly the cap', ['12345678\n'], [line('12345678')]],
    ['a long line, cut and the rest dropped', ['1234567890abc\nok\n'], [line('12345678', true), line('ok')]],
    ['a long line across chunks', ['12345', '67890', 'abc', 'def\nok\n'], [line('12345678', true), line('ok')]],
    ['a long last line', ['1234567890'], [line('12345678', true)]],
  ])('%s', (_label, chunks, expected) => {
    expect(split(chunks)).toEqual(expected);
  });

  it('never splits a UTF-8 character when cutting', () => {
    expect(split(['aaaaaaa€€\n'])).toEqual([line('aaaaaaa', true)]);
  });
});

describe('cutUtf8', () => {
  it.each([
    ['abc', 2, 'ab'],
    ['ab€', 4, 'ab'],
    ['ab€', 5, 'ab€'],
    ['é', 1, ''],
  ])('cuts %j to %i bytes', (text, max, expected) => {
    expect(cutUtf8(Buffer.from(text), max).toString()).toBe(expected);
  });
});
