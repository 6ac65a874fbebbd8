import { Box, Text } from 'ink';
import { memo, useRef } from 'react';
import { GLYPHS, palette } from '../theme.js';
import { fitColumns, GAP, windowStart, type Column, type Row } from './table-layout.js';
import { pad, sanitize } from './text.js';

export type { Column, Row } from './table-layout.js';

/** Props of `<Table>`. `height` counts the header line; `width` is the room in terminal columns. */
export interface TableProps {
  columns: readonly Column[];
  /** The rows: an array, or anything that builds a range on demand (only the window is ever sliced). */
  rows: RowSource;
  /** Index of the selected row (clamped to the rows); -1 for none. */
  selected: number;
  height: number;
  width: number;
  /** Shown under the header when there are no rows. */
  emptyText?: string;
}

/**
 * Rows a table can draw: an array, or a lazy source, so a view of 10,000 hosts builds only the rows on screen
 * instead of all of them on every redraw.
 */
export interface RowSource {
  readonly length: number;
  slice(start: number, end: number): readonly Row[];
}

const SPACE = ' '.repeat(GAP);

/**
 * A windowed table: a header line and only the rows that fit around the selected one, so 10,000 rows render as
 * fast as 20. The selected row is drawn inverse and marked `›` (readable without colour). Cells are sanitized and
 * truncated with `…` to the fitted column widths.
 */
export function Table(props: TableProps) {
  const { columns, rows, width } = props;
  const body = Math.max(0, props.height - 1);
  const selected = props.selected < 0 ? -1 : Math.min(props.selected, rows.length - 1);
  const startRef = useRef(0);
  const start = windowStart(selected, body, rows.length, startRef.current);
  startRef.current = start;
  // Sanitize before measuring, so widths fit what is drawn (only the window: cheap).
  const visible = rows.slice(start, start + body).map((r) => ({ ...r, cells: r.cells.map(sanitize) }));
  const widths = fitColumns(columns, visible, width);
  const header = columns.map((c, i) => pad(c.title, widths[i]!, c.align)).join(SPACE);
  return (
    <Box flexDirection="column" width={width} height={props.height}>
      <Text bold wrap="truncate-end">
        {'  '}
        {header}
      </Text>
      {rows.length === 0 && props.emptyText !== undefined ? (
        <Text color={palette.muted} wrap="truncate-end">
          {'  '}
          {props.emptyText}
        </Text>
      ) : null}
      {visible.map((row, n) => (
        <TableRow key={row.key} row={row} columns={columns} widths={widths} selected={start + n === selected} />
      ))}
    </Box>
  );
}

/** Props of one drawn row. */
interface TableRowProps {
  row: Row;
  columns: readonly Column[];
  widths: readonly number[];
  selected: boolean;
}

const sameList = <T,>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((v, i) => v === b[i]));

/**
 * True when a row would draw the same: the views rebuild their window's rows (and the columns and widths) on every
 * render, so identity says nothing; what is compared is what TableRow draws.
 */
function sameRowProps(a: TableRowProps, b: TableRowProps): boolean {
  return (
    a.selected === b.selected &&
    a.row.key === b.row.key &&
    a.row.dim === b.row.dim &&
    sameList(a.row.cells, b.row.cells) &&
    sameList(a.row.colors, b.row.colors) &&
    sameList(a.widths, b.widths) &&
    a.columns.length === b.columns.length &&
    a.columns.every((c, i) => c.id === b.columns[i]!.id && c.align === b.columns[i]!.align)
  );
}

/**
 * One row, redrawn only when what it shows changed: a key that moves the selection updates two rows, and Ink
 * re-measures only the text React touched (the rest of a 10,000-host fleet window keeps its layout). Keypress →
 * redraw is a measured target (docs/benchmarks.md).
 */
const TableRow = memo(function TableRow(props: TableRowProps) {
  const { row, columns, widths, selected } = props;
  return (
    <Text wrap="truncate-end" inverse={selected} dimColor={row.dim === true && !selected}>
      {selected ? `${GLYPHS.selected} ` : '  '}
      {columns.map((c, i) => (
        <Text key={c.id} color={row.colors?.[i]}>
          {i > 0 ? SPACE : ''}
          {pad(row.cells[i] ?? '', widths[i]!, c.align)}
        </Text>
      ))}
    </Text>
  );
}, sameRowProps);
