import type { Hint } from '../keys/footer.js';
import { textWidth } from './text.js';

/** A hint as the footer writes it: `key label`, a disabled one marked `⊘`. */
export function hintText(h: Hint): string {
  return `${h.disabled !== undefined ? '⊘' : ''}${h.key} ${h.label}`;
}

/** Separator between hints. */
export const HINT_GAP = '  ';

/** Hints packed into at most `maxLines` lines of `width` columns, in order; what does not fit is left off. */
export function packHints(hints: readonly Hint[], width: number, maxLines: number): Hint[][] {
  const lines: Hint[][] = [];
  let line: Hint[] = [];
  let used = 0;
  for (const h of hints) {
    const w = textWidth(hintText(h));
    const need = line.length === 0 ? w : used + HINT_GAP.length + w;
    if (need <= width || line.length === 0) {
      line.push(h);
      used = need;
      continue;
    }
    lines.push(line);
    if (lines.length === maxLines) return lines;
    line = [h];
    used = w;
  }
  if (line.length > 0) lines.push(line);
  return lines;
}
