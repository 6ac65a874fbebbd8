import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayText, terminalJson } from '../../src/text/display-text.js';

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
// Strings rich in the characters that matter, mixed with ordinary and wide text.
const hostile = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 0x20 }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x7f, max: 0xa0 }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\u061c', '\u200e', '\u200f', '\u2028', '\u2029', '\u202a', '\u202e', '\u2066', '\u2069', '\r\n', '日本', '✓', '\\', '"'),
    fc.string(),
  ),
).map((parts) => parts.join(''));

describe('displayText', () => {
  it.each([
    ['OSC window title ended by BEL', 'a\u001b]0;pwned\u0007b', 'a\\x1b]0;pwned\\x07b'],
    ['clear screen', 'ok\u001b[2Jdone', 'ok\\x1b[2Jdone'],
    ['BEL, BS, NUL, DEL', '\u0007\u0008\u0000\u007f', '\\x07\\x08\\x00\\x7f'],
    ['8-bit CSI and other C1', 'x\u009b31m\u0085\u0090y', 'x\\x9b31m\\x85\\x90y'],
    ['bidi override, isolates and marks', '\u202ecod\u2066\u2069\u200e\u061c', '\\u202ecod\\u2066\\u2069\\u200e\\u061c'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
    ['line breaks and tabs, as spaces', 'a\r\nb\nc\td\re\u000bf\u000cg', 'a b c d e f g'],
    ['ordinary and wide text, unchanged', 'web-01 — 日本語 ✓ "q" \\x1b', 'web-01 — 日本語 ✓ "q" \\x1b'],
  ])('one line: %s', (_what, input, want) => {
    expect(displayText(input)).toBe(want);
  });

  it.each([
    ['keeps newlines and tabs, CRLF as a newline', 'a\r\nb\n\tc', 'a\nb\n\tc'],
    ['shows a lone CR, which would overwrite the line', 'evil\rgood', 'evil\\x0dgood'],
    ['shows escapes', 'x\u001b[2J\u009b', 'x\\x1b[2J\\x9b'],
  ])('block: %s', (_what, input, want) => {
    expect(displayText(input, 'block')).toBe(want);
  });

  it('leaves nothing a terminal acts on, is idempotent, and keeps safe text as it is', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const line = displayText(text);
        expect(UNSAFE.test(line)).toBe(false);
        expect(displayText(line)).toBe(line);
        const block = displayText(text, 'block');
        expect(UNSAFE.test(block.replace(/[\n\t]/g, ''))).toBe(false);
        expect(displayText(block, 'block')).toBe(block);
        if (!UNSAFE.test(text)) expect(line).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});

describe('terminalJson', () => {
  it('escapes what JSON.stringify leaves raw, and parses back to the exact value', () => {
    const value = { t: 'a\u009b31m\u202e\u2066\u007f\u2028\u001b]0;x\u0007', n: [1, '\\\u0085'] };
    expect(JSON.stringify(value)).toMatch(/\u009b/); // the reason for terminalJson
    const text = terminalJson(value);
    expect(text).toBe(String.raw`{"t":"a\u009b31m\u202e\u2066\u007f\u2028\u001b]0;x\u0007","n":[1,"\\\u0085"]}`);
    expect(JSON.parse(text)).toEqual(value);
    expect(JSON.parse(terminalJson(value, 2))).toEqual(value);
    expect(terminalJson(undefined)).toBe('null');
  });

  it('is exact JSON with nothing unsafe for any string (pretty or compact)', () => {
    fc.assert(
      fc.property(fc.dictionary(hostile, fc.oneof(hostile, fc.array(hostile))), (value) => {
        for (const text of [terminalJson(value), terminalJson(value, 2)]) {
          expect(UNSAFE.test(text.replace(/\n/g, ''))).toBe(false);
          expect(JSON.parse(text)).toEqual(value);
        }
      }),
      { numRuns: 300 },
    );
  });
});
