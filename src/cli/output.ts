import type { Writable } from 'node:stream';
import { CommanderError } from 'commander';
import { OkesuError } from '../errors.js';

/** Meanings a cell can be painted with; always paired with a word or glyph, so NO_COLOR still reads. */
export type Tone = 'critical' | 'high' | 'medium' | 'low' | 'info' | 'ok' | 'warn' | 'muted' | 'error';

const ANSI: Record<Tone, [string, string]> = {
  critical: ['\x1b[1;35m', '\x1b[0m'],
  high: ['\x1b[31m', '\x1b[39m'],
  medium: ['\x1b[33m', '\x1b[39m'],
  low: ['\x1b[36m', '\x1b[39m'],
  info: ['\x1b[2m', '\x1b[22m'],
  ok: ['\x1b[32m', '\x1b[39m'],
  warn: ['\x1b[33m', '\x1b[39m'],
  muted: ['\x1b[2m', '\x1b[22m'],
  error: ['\x1b[31m', '\x1b[39m'],
};

/** One column of a plain table: a header, how to read a cell, and optional limits. */
export interface Column<T> {
  header: string;
  value(row: T): string;
  /** Longest cell before it is cut with `…`. */
  max?: number;
  /** The column that shrinks first when the table is wider than the terminal (default: the last). */
  flex?: boolean;
  align?: 'left' | 'right';
  tone?(row: T): Tone | undefined;
}

/** Paints `text` with a tone when colour is on. */
export function paint(text: string, tone: Tone | undefined, color: boolean): string {
  if (!color || !tone) return text;
  const [open, close] = ANSI[tone];
  return `${open}${text}${close}`;
}

/** Cuts `text` to `width` characters, ending in `…` when cut. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width <= 1 ? chars.slice(0, width).join('') : `${chars.slice(0, width - 1).join('')}…`;
}

const cellText = (text: string): string => text.replace(/[\r\n\t]+/g, ' ');
const len = (text: string): number => [...text].length;

/** Lays out rows as plain aligned columns separated by two spaces; `width` caps the line length by shrinking the flex column. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[], opts: { color?: boolean; width?: number } = {}): string[] {
  const cells = rows.map((row) => columns.map((c) => truncate(cellText(c.value(row)), c.max ?? Infinity)));
  const widths = columns.map((c, i) => Math.max(len(c.header), ...cells.map((r) => len(r[i] as string))));
  if (opts.width !== undefined && columns.length > 0) {
    const total = widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
    const flexIndex = Math.max(0, columns.findIndex((c) => c.flex) === -1 ? columns.length - 1 : columns.findIndex((c) => c.flex));
    const over = total - opts.width;
    if (over > 0) {
      const flexCol = columns[flexIndex] as Column<T>;
      const target = Math.max(len(flexCol.header), (widths[flexIndex] as number) - over, 8);
      widths[flexIndex] = target;
      for (const r of cells) r[flexIndex] = truncate(r[flexIndex] as string, target);
    }
  }
  const line = (texts: string[], tones: (Tone | undefined)[]): string =>
    texts
      .map((t, i) => {
        const w = widths[i] as number;
        const last = i === texts.length - 1;
        const pad = ' '.repeat(Math.max(0, w - len(t)));
        const body = paint(t, tones[i], opts.color ?? false);
        if (columns[i]?.align === 'right') return pad + body;
        return last ? body : body + pad;
      })
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.header), [])];
  rows.forEach((row, r) => out.push(line(cells[r] as string[], columns.map((c) => c.tone?.(row)))));
  return out;
}

/** `okesu: OKS_ERR_X: message` for an Okesu error; other errors get OKS_ERR_INTERNAL (stack only when OKESU_DEBUG is set). */
export function formatError(err: unknown, env: NodeJS.ProcessEnv = {}): string {
  if (err instanceof OkesuError) return `okesu: ${err.code}: ${err.message}`;
  const message = err instanceof Error ? err.message : String(err);
  const stack = env.OKESU_DEBUG && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return `okesu: OKS_ERR_INTERNAL: ${message}${stack}`;
}

/** Everything the CLI writes goes through this: stdout carries results only, stderr carries status and errors. */
export interface Output {
  /** True when stdout is a terminal and NO_COLOR is unset. */
  readonly color: boolean;
  /** Pretty JSON document (for `--json` of list and single-object commands). */
  printJson(value: unknown): void;
  /** One compact JSON object on one line (JSONL). */
  printJsonLine(value: unknown): void;
  printLine(text?: string): void;
  printTable<T>(rows: readonly T[], columns: readonly Column<T>[]): void;
  /** A status line on stderr, never stdout. */
  status(text: string): void;
  /** `okesu: OKS_ERR_X: message` on stderr. */
  printError(err: unknown): void;
}

/** Where output goes: the process's streams in production, buffers in tests. */
export interface OutputStreams {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** True when a stream is a terminal and the environment does not ask for NO_COLOR. */
export function colorEnabled(stream: Writable, env: NodeJS.ProcessEnv): boolean {
  const tty = (stream as Writable & { isTTY?: boolean }).isTTY === true;
  return tty && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

/** Builds the CLI's output layer over a pair of streams; each line is one write, so pipes see it at once. */
export function createOutput(streams: OutputStreams): Output {
  const { stdout, stderr, env } = streams;
  const color = colorEnabled(stdout, env);
  const width = (): number | undefined => {
    const s = stdout as Writable & { isTTY?: boolean; columns?: number };
    return s.isTTY && s.columns ? s.columns : undefined;
  };
  return {
    color,
    printJson: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    printJsonLine: (value) => void stdout.write(`${JSON.stringify(value)}\n`),
    printLine: (text = '') => void stdout.write(`${text}\n`),
    printTable: (rows, columns) => void stdout.write(`${formatTable(rows, columns, { color, width: width() }).join('\n')}\n`),
    status: (text) => void stderr.write(`${text}\n`),
    printError: (err) => {
      // Commander already printed its own usage errors.
      if (err instanceof CommanderError) return;
      stderr.write(`${formatError(err, env)}\n`);
    },
  };
}
