import stringWidth from 'string-width';
import { formatCoarseDuration } from '../../src/protocol/duration.js';
import { displayText } from '../../src/text/display-text.js';

/**
 * Makes attacker-controlled text (hostnames, titles, evidence, process names) safe to draw on one line: the shared
 * `displayText` of the CLI too — control characters, C1 and bidi controls shown as escapes, line breaks and tabs as
 * spaces. Takes one argument, so `cells.map(sanitize)` is safe.
 */
export function sanitize(text: string): string {
  return displayText(text);
}

const segmenter = new Intl.Segmenter();

/** Columns `text` takes on a terminal (wide CJK / emoji count 2). */
export function textWidth(text: string): number {
  return stringWidth(text);
}

/** Cuts `text` to at most `width` columns, ending with `…` when it was cut. Width-aware (wide characters). */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  // Fast path: pure ASCII printable text is one column per character.
  if (/^[\u0020-\u007E]*$/.test(text)) return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
  if (stringWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const { segment } of segmenter.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}

/** `text` truncated to `width` columns and padded with spaces to exactly `width` (right-aligned with `'right'`). */
export function pad(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  const fill = ' '.repeat(Math.max(0, width - textWidth(cut)));
  return align === 'right' ? fill + cut : cut + fill;
}

/** A duration as one short unit: `4s`, `3m`, `2h`, `5d` (negative counts as 0); the CLI's ages say the same. */
export const formatAge = formatCoarseDuration;

const two = (n: number): string => String(n).padStart(2, '0');

/**
 * A timestamp as local `HH:MM:SS`, with the date (`YYYY-MM-DD HH:MM:SS`) when it is not on the same local day as
 * `now`. Local time follows `TZ` (the frame-test helper pins it to UTC so snapshots are stable).
 */
export function formatTime(ms: number, now: number = ms): string {
  const d = new Date(ms);
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const day = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  return sameDay(d, new Date(now)) ? time : `${day} ${time}`;
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}
