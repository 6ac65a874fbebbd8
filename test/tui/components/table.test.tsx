import { render } from 'ink-testing-library';
import { describe, expect, test } from 'vitest';
import { Table, type Column, type Row } from '../../../tui/components/table.js';
import { fitColumns, windowStart } from '../../../tui/components/table-layout.js';

const columns: Column[] = [
  { id: 'name', title: 'NAME', grow: true },
  { id: 'n', title: 'N', width: 4, align: 'right' },
];
const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ key: `r${i}`, cells: [`row-${i}`, String(i)] }));

describe('windowStart', () => {
  test('scrolls only as far as needed to show the selection', () => {
    expect(windowStart(0, 5, 100, 0)).toBe(0);
    expect(windowStart(4, 5, 100, 0)).toBe(0);
    expect(windowStart(5, 5, 100, 0)).toBe(1);
    expect(windowStart(7, 5, 100, 5)).toBe(5); // still visible: no move
    expect(windowStart(3, 5, 100, 5)).toBe(3);
    expect(windowStart(99, 5, 100, 0)).toBe(95);
    expect(windowStart(2, 5, 3, 40)).toBe(0); // fewer rows than the window
  });
});

describe('fitColumns', () => {
  test('grow columns take the room left; fixed ones keep their width', () => {
    expect(fitColumns(columns, rows(3), 40)).toEqual([40 - 2 - 1 - 4, 4]);
  });

  test('too narrow: grow columns shrink first, never below 1', () => {
    const cols: Column[] = [{ id: 'a', title: 'A', grow: true }, { id: 'b', title: 'BBBBBBBBBB' }];
    const w = fitColumns(cols, [{ key: 'x', cells: ['aaaaaaaaaaaaaaaaaaaa', 'b'] }], 12);
    expect(w.reduce((s, n) => s + n, 0) + 2 + 1).toBeLessThanOrEqual(12);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(1);
  });
});

describe('<Table>', () => {
  test('asks a lazy row source only for the rows it draws', () => {
    const all = rows(10_000);
    const asked: [number, number][] = [];
    const source = { length: all.length, slice: (start: number, end: number) => (asked.push([start, end]), all.slice(start, end)) };
    const { lastFrame } = render(<Table columns={columns} rows={source} selected={5_000} height={6} width={30} />);
    expect(lastFrame()).toContain('row-5000');
    expect(asked.length).toBeGreaterThan(0);
    for (const [start, end] of asked) expect(end - start).toBeLessThanOrEqual(5);
  });

  test('draws a header and only the window around the selection, marked ›', () => {
    const { lastFrame } = render(<Table columns={columns} rows={rows(10_000)} selected={5_000} height={6} width={30} />);
    const lines = lastFrame()!.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^ {2}NAME\s+N$/);
    expect(lines.at(-1)).toMatch(/^› row-5000\s+5000$/);
    expect(lines.filter((l) => l.startsWith('›'))).toHaveLength(1);
  });

  test('sanitizes and truncates cells', () => {
    const hostile: Row[] = [{ key: 'x', cells: ['ev\u001B]0;t\u0007name-that-is-long', '1'] }];
    const { lastFrame } = render(<Table columns={columns} rows={hostile} selected={0} height={2} width={20} />);
    expect(lastFrame()).toContain('› ev\\x1b]0;t\\x…    1');
    expect(lastFrame()).not.toContain('\u001B');
  });

  test('redraws a row whose cells, column alignment or selection changed (rows are drawn only on change)', () => {
    const base: Row[] = [{ key: 'a', cells: ['alpha', '1'] }, { key: 'b', cells: ['beta', '2'] }];
    const { lastFrame, rerender } = render(<Table columns={columns} rows={base} selected={0} height={3} width={30} />);
    expect(lastFrame()).toMatch(/› alpha\s+1\n {2}beta\s+2$/);
    rerender(<Table columns={columns} rows={[base[0]!, { key: 'b', cells: ['beta', '7'] }]} selected={0} height={3} width={30} />);
    expect(lastFrame()).toMatch(/ {2}beta\s+7$/);
    rerender(<Table columns={columns} rows={[base[0]!, { key: 'b', cells: ['beta', '7'] }]} selected={1} height={3} width={30} />);
    expect(lastFrame()).toMatch(/ {2}alpha\s+1\n› beta\s+7$/);
    const right = lastFrame()!.split('\n')[2]!.indexOf('7');
    const left: Column[] = [columns[0]!, { ...columns[1]!, align: 'left' }];
    rerender(<Table columns={left} rows={[base[0]!, { key: 'b', cells: ['beta', '7'] }]} selected={1} height={3} width={30} />);
    expect(lastFrame()!.split('\n')[2]!.indexOf('7')).toBe(right - 3);
  });

  test('shows the empty text; -1 selects nothing', () => {
    expect(render(<Table columns={columns} rows={[]} selected={0} height={3} width={30} emptyText="nothing here" />).lastFrame()).toContain(
      'nothing here',
    );
    expect(render(<Table columns={columns} rows={rows(3)} selected={-1} height={4} width={30} />).lastFrame()).not.toContain('›');
  });
});
