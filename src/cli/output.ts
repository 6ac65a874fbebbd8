import type { Writable } from 'node:stream';
import { CommanderError } from 'commander';
import { OkesuError } from '../errors.js';
import { displayText, terminalJson } from '../text/display-text.js';
import { terminalYaml } from './terminal-yaml.js';

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
  /** Shown only by `--output wide` (a detail that does not fit a terminal line next to the others). */
  wide?: boolean;
}

/** How a list command prints (`-o/--output`): a table cut to the terminal, every column uncut, JSON, or YAML. */
export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

/** A piece of a printed line: plain text, or text with a tone (painted when colour is on). */
export type Span = string | { readonly text: string; readonly tone: Tone | undefined };

/** What `printLine` and `status` take: one line, as text or as spans. The output layer makes every span safe. */
export type Line = string | readonly Span[];

/** A span of `text` painted with `tone` when colour is on. */
export function toned(text: string, tone: Tone | undefined): Span {
  return { text, tone };
}

/** The plain text of a line, unpainted and not yet made safe (for tests and for measuring). */
export function lineText(line: Line): string {
  return typeof line === 'string' ? line : line.map((s) => (typeof s === 'string' ? s : s.text)).join('');
}

/**
 * Paints `text` with a tone when colour is on. The escapes are the output layer's own: apply it only to text already
 * made safe (commands build `toned` spans and let `printLine` paint them).
 */
export function paint(text: string, tone: Tone | undefined, color: boolean): string {
  if (!color || !tone) return text;
  const [open, close] = ANSI[tone];
  return `${open}${text}${close}`;
}

/** A line made safe for the terminal (one line: host text cannot break it or send escapes) and painted. */
function renderLine(line: Line, color: boolean): string {
  if (typeof line === 'string') return displayText(line);
  return line.map((s) => (typeof s === 'string' ? displayText(s) : paint(displayText(s.text), s.tone, color))).join('');
}

/** Cuts `text` to `width` characters, ending in `…` when cut. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width <= 1 ? chars.slice(0, width).join('') : `${chars.slice(0, width - 1).join('')}…`;
}

const len = (text: string): number => [...text].length;

/**
 * Lays out rows as plain aligned columns separated by two spaces; `width` caps the line length by shrinking the flex
 * column. Every cell is made safe first (one line, control characters shown as escapes), then cut and painted.
 */
export function formatTable<T>(rows: readonly T[], allColumns: readonly Column<T>[], opts: { color?: boolean; width?: number; wide?: boolean } = {}): string[] {
  // Wide: every column, no cell cut (neither to its `max` nor to the terminal); else the columns that are not wide-only.
  const columns = opts.wide ? allColumns : allColumns.filter((c) => !c.wide);
  if (opts.wide) opts = { ...opts, width: undefined };
  const cells = rows.map((row) => columns.map((c) => truncate(displayText(c.value(row)), opts.wide ? Infinity : c.max ?? Infinity)));
  const headers = columns.map((c) => displayText(c.header));
  const widths = columns.map((c, i) => Math.max(len(headers[i] as string), ...cells.map((r) => len(r[i] as string))));
  if (opts.width !== undefined && columns.length > 0) {
    const total = widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
    const flexIndex = Math.max(0, columns.findIndex((c) => c.flex) === -1 ? columns.length - 1 : columns.findIndex((c) => c.flex));
    const over = total - opts.width;
    if (over > 0) {
      const target = Math.max(len(headers[flexIndex] as string), (widths[flexIndex] as number) - over, 8);
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
  const out = [line(headers, [])];
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

/**
 * Everything the CLI writes goes through this: stdout carries results only, stderr carries status and errors. Text
 * from hosts and other operators reaches the terminal only through it, so it is made safe here, once, for every
 * command: human output shows control characters as escapes (`displayText`) and one `printLine` is one line; JSON is
 * exact, with the characters JSON.stringify leaves raw (C1, bidi) written as `\uXXXX` (`terminalJson`).
 */
export interface Output {
  /** True when stdout is a terminal and NO_COLOR is unset. */
  readonly color: boolean;
  /** Pretty JSON document (for `--json` of list and single-object commands). */
  printJson(value: unknown): void;
  /** One compact JSON object on one line (JSONL). */
  printJsonLine(value: unknown): void;
  /** One line on stdout: line breaks in it become spaces, control characters escapes; `toned` spans are painted. */
  printLine(line?: Line): void;
  printTable<T>(rows: readonly T[], columns: readonly Column<T>[], opts?: { wide?: boolean }): void;
  /** A YAML document (for `-o yaml`), with the same guarantees as `printJson`. */
  printYaml(value: unknown): void;
  /**
   * A list in the chosen format: `json`/`yaml` print `value` (default `rows`), `table`/`wide` the rows as a table.
   * An empty table prints `empty` on stderr instead, when given.
   */
  printList<T>(format: OutputFormat, rows: readonly T[], columns: readonly Column<T>[], opts?: { value?: unknown; empty?: string }): void;
  /** A status line on stderr, never stdout; made safe like `printLine`. */
  status(line: Line): void;
  /** `okesu: OKS_ERR_X: message` on stderr (its line breaks kept, control characters shown as escapes). */
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
    printJson: (value) => void stdout.write(`${terminalJson(value, 2)}\n`),
    printJsonLine: (value) => void stdout.write(`${terminalJson(value)}\n`),
    printLine: (line = '') => void stdout.write(`${renderLine(line, color)}\n`),
    printTable: (rows, columns, opts) => void stdout.write(`${formatTable(rows, columns, { color, width: width(), wide: opts?.wide ?? false }).join('\n')}\n`),
    printYaml: (value) => void stdout.write(terminalYaml(value)),
    printList(format, rows, columns, opts = {}) {
      const value = opts.value ?? rows;
      if (format === 'json') this.printJson(value);
      else if (format === 'yaml') this.printYaml(value);
      else if (rows.length === 0 && opts.empty !== undefined) this.status(opts.empty);
      else this.printTable(rows, columns, { wide: format === 'wide' });
    },
    // Status and errors go to stderr, which is not coloured.
    status: (line) => void stderr.write(`${renderLine(line, false)}\n`),
    printError: (err) => {
      // Commander already printed its own usage errors.
      if (err instanceof CommanderError) return;
      stderr.write(`${displayText(formatError(err, env), 'block')}\n`);
    },
  };
}
