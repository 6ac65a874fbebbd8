import { textWidth } from './text.js';

/** A table column: fixed `width`, or fitted to its content; `grow` columns share the room left over. */
export interface Column {
  id: string;
  title: string;
  width?: number;
  grow?: boolean;
  align?: 'left' | 'right';
}

/** A table row: one string per column, optional per-cell colours, `dim` to grey it out. */
export interface Row {
  key: string;
  cells: readonly string[];
  colors?: readonly (string | undefined)[];
  dim?: boolean;
}

/** Columns between the marker and the first cell, and between cells. */
export const GAP = 1;
/** The selection marker column (`›` + space). */
export const MARKER = 2;

/**
 * The first row to show so that `selected` is visible in a window of `size` rows, moving as little as possible
 * from `previous` (so the view scrolls like a pager rather than re-centring on every key).
 */
export function windowStart(selected: number, size: number, total: number, previous: number): number {
  if (size <= 0 || total <= size) return 0;
  let start = Math.min(Math.max(previous, 0), total - size);
  if (selected < 0) return start;
  if (selected < start) start = selected;
  else if (selected >= start + size) start = selected - size + 1;
  return Math.max(0, Math.min(start, total - size));
}

/**
 * Column widths fitted to `width` terminal columns. Fixed columns keep their width; others take the widest of
 * their title and the visible cells (only the window is measured, so 10,000 rows cost what 20 do); grow columns
 * share what is left. When it does not fit, grow columns shrink first, then the widest column, down to 1.
 */
export function fitColumns(columns: readonly Column[], visible: readonly Row[], width: number): number[] {
  const widths = columns.map((c, i) => {
    if (c.width !== undefined) return c.width;
    let w = textWidth(c.title);
    for (const r of visible) w = Math.max(w, textWidth(r.cells[i] ?? ''));
    return w;
  });
  const room = width - MARKER - GAP * Math.max(0, columns.length - 1);
  let total = widths.reduce((a, b) => a + b, 0);
  const growers = columns.flatMap((c, i) => (c.grow ? [i] : []));
  if (total < room && growers.length > 0) {
    const extra = room - total;
    growers.forEach((i, n) => (widths[i]! += Math.floor(extra / growers.length) + (n < extra % growers.length ? 1 : 0)));
    return widths;
  }
  // Too wide: take from grow columns (down to their title), then from the widest column.
  for (const i of growers) {
    if (total <= room) break;
    const floor = Math.min(widths[i]!, Math.max(4, textWidth(columns[i]!.title)));
    const cut = Math.min(widths[i]! - floor, total - room);
    widths[i]! -= cut;
    total -= cut;
  }
  while (total > room) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= 1) break;
    widths[widest]! -= 1;
    total -= 1;
  }
  return widths;
}
