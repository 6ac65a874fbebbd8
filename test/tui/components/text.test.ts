import { describe, expect, test } from 'vitest';
import { formatAge, formatTime, pad, sanitize, textWidth, truncate } from '../../../tui/components/text.js';

describe('sanitize (the shared displayText, one line)', () => {
  test.each([
    ['CSI colour', 'web-01\u001B[31mRED\u001B[0m', 'web-01\\x1b[31mRED\\x1b[0m'],
    ['OSC title ended by BEL', 'a\u001B]0;pwned\u0007b', 'a\\x1b]0;pwned\\x07b'],
    ['OSC 8 hyperlink ended by ST', 'a\u001B]8;;http://x\u001B\\link', 'a\\x1b]8;;http://x\\x1b\\link'],
    ['8-bit CSI', 'x\u009B31my', 'x\\x9b31my'],
    ['clear screen + cursor home', 'ok\u001B[2J\u001B[Hdone', 'ok\\x1b[2J\\x1b[Hdone'],
    ['a lone trailing ESC', 'trail\u001B', 'trail\\x1b'],
    ['C0 controls and DEL', 'bell\u0007\u0008z\u0000\u007F', 'bell\\x07\\x08z\\x00\\x7f'],
    ['bidi override and isolate', 'bidi\u202Eevil\u2066', 'bidi\\u202eevil\\u2066'],
    ['newlines and tabs become spaces', 'line1\r\nline2\nx\ttab', 'line1 line2 x tab'],
  ])('shows %s as escapes', (_what, input, want) => {
    expect(sanitize(input)).toBe(want);
  });

  test('keeps ordinary and wide text', () => {
    expect(sanitize('web-01.prod — 日本語 ✓')).toBe('web-01.prod — 日本語 ✓');
  });

  test('takes one argument, so it maps safely', () => {
    expect(['a\u001B', 'b\nc'].map(sanitize)).toEqual(['a\\x1b', 'b c']);
  });
});

describe('truncate and pad', () => {
  test('cuts to the width with an ellipsis', () => {
    expect(truncate('abcdefgh', 5)).toBe('abcd…');
    expect(truncate('abc', 5)).toBe('abc');
    expect(truncate('abc', 0)).toBe('');
  });

  test('counts wide characters as two columns', () => {
    expect(truncate('日本語のホスト', 7)).toBe('日本語…');
    expect(textWidth(truncate('日本語のホスト', 7))).toBeLessThanOrEqual(7);
    expect(pad('日本語', 8)).toBe('日本語  ');
  });

  test('pads left or right to exactly the width', () => {
    expect(pad('abc', 5)).toBe('abc  ');
    expect(pad('abc', 5, 'right')).toBe('  abc');
    expect(pad('abcdefg', 5)).toBe('abcd…');
  });
});

describe('formatAge and formatTime', () => {
  test('one unit', () => {
    expect(formatAge(4_200)).toBe('4s');
    expect(formatAge(-5)).toBe('0s');
    expect(formatAge(3 * 60_000 + 59_000)).toBe('3m');
    expect(formatAge(2 * 3_600_000)).toBe('2h');
    expect(formatAge(5 * 86_400_000 + 1)).toBe('5d');
  });

  test('time of day, with the date when it is another day', () => {
    process.env.TZ = 'UTC';
    const now = Date.UTC(2026, 0, 15, 12, 0, 0);
    expect(formatTime(Date.UTC(2026, 0, 15, 9, 5, 7), now)).toBe('09:05:07');
    expect(formatTime(Date.UTC(2026, 0, 12, 23, 0, 0), now)).toBe('2026-01-12 23:00:00');
  });
});
