import { expect } from 'vitest';

/**
 * Text a hostile host or operator sends: an OSC window title ended by BEL, clear screen, BEL, BS, NUL, an 8-bit CSI,
 * a bidi override and isolate, DEL, CRLF and a tab, a CSI colour. Starts and ends with a letter (titles are trimmed).
 */
export const HOSTILE = 'A\u001b]0;pwned\u0007B\u001b[2JC\u0007D\u0008E\u0000F\u009b31mG\u202eH\u2066I\u007fJ\r\nK\tL\u001b[31mM';

/** A shorter hostile text for fields of at most 64 characters (host facts). */
export const HOSTILE_SHORT = 'v\u001b]0;x\u0007\u009b2J\u202e1';

// Everything a terminal could act on or that reorders what an operator reads. \n ends lines; \t is allowed on request.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** Fails naming the first character of `text` a terminal must not receive (no tab either unless `tab`). */
export function expectTerminalSafe(text: string, what: string, opts: { tab?: boolean } = {}): void {
  const chars = [...text];
  const bad = chars.findIndex((c) => UNSAFE.test(c) || (c === '\t' && !opts.tab));
  const where = bad === -1 ? '' : `U+${(chars[bad]?.codePointAt(0) ?? 0).toString(16).padStart(4, '0')} at ${bad} in …${chars.slice(Math.max(0, bad - 20), bad + 10).join('')}…`;
  expect(where, what).toBe('');
}
