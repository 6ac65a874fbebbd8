import type { Writable } from 'node:stream';
import { displayText } from '../text/display-text.js';
import { truncate } from './output.js';

/** A block of status lines, one per key, redrawn in place on a terminal (`okesu deploy`'s one line per host). */
export interface ProgressBoard {
  /** Sets the line of `key` (added at the bottom the first time) and redraws the block. */
  set(key: string, text: string): void;
  /** Erases the block, so what follows starts where it began. */
  clear(): void;
}

/**
 * A board on a terminal stream: each redraw moves the cursor up over the block and rewrites every line (cleared first),
 * each cut to the terminal's width so none wraps (a wrapped line would break the count). Lines are made safe like
 * every other output line (control characters shown as escapes).
 */
export function createProgressBoard(stream: Writable & { columns?: number }): ProgressBoard {
  const lines = new Map<string, string>();
  let drawn = 0;
  const up = (): string => (drawn > 0 ? `\x1b[${drawn}A` : '');
  return {
    set(key, text) {
      lines.set(key, text);
      const width = Math.max(20, (stream.columns ?? 100) - 1);
      const body = [...lines.values()].map((l) => `\r\x1b[2K${truncate(displayText(l, 'line'), width)}\n`).join('');
      stream.write(`${up()}${body}`);
      drawn = lines.size;
    },
    clear() {
      if (drawn > 0) stream.write(`${up()}\r\x1b[J`);
      drawn = 0;
    },
  };
}
