/**
 * Text that came from hosts or other operators (hostnames, labels, finding titles and evidence, run errors, audit
 * reasons, transcripts), made safe to show on a terminal. Pure: shared by the CLI's output layer and the console.
 *
 * Nothing is dropped: a control character is shown as an escape (`\x1b`, `\x07`, `\x9b`, `\u202e`), so an operator
 * sees that a host sent one, and the terminal never receives it. Printable text, wide characters included, is kept.
 */

// C0 (tab and newline are decided by the mode), DEL, C1, and the invisible characters that change how a line reads:
// the Arabic letter mark, LRM/RLM, the bidi embeddings/overrides (U+202A–U+202E) and isolates (U+2066–U+2069)
// (trojan-source style reordering), and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');
// What `JSON.stringify` leaves raw (it escapes only U+0000–U+001F, `"` and `\`).
const JSON_UNSAFE = /[\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;

/** How line structure is kept: `line` makes one line (breaks and tabs become spaces); `block` keeps `\n` and `\t`. */
export type DisplayMode = 'line' | 'block';

const hex = (c: string, digits: number): string => (c.codePointAt(0) ?? 0).toString(16).padStart(digits, '0');
const escapeOf = (c: string): string => (c <= '\u00FF' ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`);

/**
 * `text` with every control character shown as an escape (`\x1b`, `\x7f`, `\x9b`, `\u202e`); in `line` mode (the
 * default) line breaks, tabs, vertical tabs and form feeds become one space each (CRLF one space). In `block` mode
 * `\n` and `\t` stay and CRLF becomes `\n`; a lone `\r`, which would let text overwrite the start of its line, is
 * shown as `\x0d`. The result contains no control character, so applying it twice changes nothing.
 */
export function displayText(text: string, mode: DisplayMode = 'line'): string {
  if (!UNSAFE.test(text)) return text;
  if (mode === 'line') return text.replace(/\r\n|[\t\n\v\f\r]/g, ' ').replace(UNSAFE_ALL, escapeOf);
  return text.replace(/\r\n/g, '\n').replace(UNSAFE_ALL, (c) => (c === '\n' || c === '\t' ? c : escapeOf(c)));
}

/**
 * `JSON.stringify(value, null, indent)` that is also safe on a terminal: DEL, C1 controls, bidi controls and the line
 * separators, which JSON.stringify leaves raw, are written as `\uXXXX`. Still exact JSON: parsing it gives back the
 * very same strings (outside strings JSON has none of these characters, and inside one the escape means the same).
 */
export function terminalJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent) as string | undefined;
  return text === undefined ? 'null' : text.replace(JSON_UNSAFE, (c) => `\\u${hex(c, 4)}`);
}
