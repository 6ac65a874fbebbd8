import type { HostState } from '../src/protocol/api.js';
import type { Severity } from '../src/protocol/finding.js';

/**
 * The console's colours, named by what they mean, never by hue at the call site. Every colour is shown next to a
 * glyph or a word, so the console still reads with `NO_COLOR` (where all colours are `undefined`).
 *
 * Why we do it ourselves: chalk 5.6 (which Ink uses) does not look at `NO_COLOR` — checked on a real tty, where
 * `NO_COLOR=1` still gave `ESC[31m` — so the theme drops the colours itself.
 */
export interface Palette {
  ok: string | undefined;
  warn: string | undefined;
  error: string | undefined;
  stale: string | undefined;
  offline: string | undefined;
  pending: string | undefined;
  accent: string | undefined;
  muted: string | undefined;
  critical: string | undefined;
  high: string | undefined;
  medium: string | undefined;
  low: string | undefined;
  info: string | undefined;
}
/** A colour's meaning. */
export type ColorName = keyof Palette;

const COLORS: Readonly<Record<ColorName, string>> = {
  ok: 'green',
  warn: 'yellow',
  error: 'red',
  stale: 'yellow',
  offline: 'gray',
  pending: 'cyan',
  accent: 'cyan',
  muted: 'gray',
  critical: 'magenta',
  high: 'red',
  medium: 'yellow',
  low: 'blue',
  info: 'gray',
};

/** True when `NO_COLOR` is set to a non-empty value (https://no-color.org). */
export function noColor(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return (env.NO_COLOR ?? '') !== '';
}

/** The palette for an environment: every colour `undefined` under `NO_COLOR`. */
export function createPalette(env: Readonly<Record<string, string | undefined>> = process.env): Palette {
  const off = noColor(env);
  return Object.fromEntries(Object.entries(COLORS).map(([k, v]) => [k, off ? undefined : v])) as unknown as Palette;
}

/** The palette of this process (read once at start-up). */
export const palette: Palette = createPalette();

/** Glyphs that carry meaning without colour. */
export const GLYPHS = {
  online: '●',
  stale: '◐',
  offline: '○',
  ok: '✓',
  failed: '✗',
  running: '…',
  waiting: '⏸',
  pending: '·',
  dispatched: '→',
  cancelled: '⊘',
  timeout: '⏱',
  skipped: '-',
  selected: '›',
} as const;

/** How to draw a state: its colour (maybe undefined), a one-column glyph and a word. */
export interface Style {
  color: string | undefined;
  glyph: string;
  word: string;
}

const SEVERITY_STYLES: Readonly<Record<Severity, { color: ColorName; glyph: string; word: string }>> = {
  CRITICAL: { color: 'critical', glyph: '◆', word: 'CRIT' },
  HIGH: { color: 'high', glyph: '▲', word: 'HIGH' },
  MEDIUM: { color: 'medium', glyph: '■', word: 'MED' },
  LOW: { color: 'low', glyph: '□', word: 'LOW' },
  INFO: { color: 'info', glyph: '·', word: 'INFO' },
};

/** A finding severity's colour, glyph and short word (`CRIT`, `HIGH`, `MED`, `LOW`, `INFO`). */
export function severityStyle(severity: Severity, p: Palette = palette): Style {
  const s = SEVERITY_STYLES[severity];
  return { color: p[s.color], glyph: s.glyph, word: s.word };
}

/** A host liveness state's colour, glyph (● ◐ ○) and word. */
export function hostStateStyle(state: HostState, p: Palette = palette): Style {
  switch (state) {
    case 'online':
      return { color: p.ok, glyph: GLYPHS.online, word: 'online' };
    case 'stale':
      return { color: p.stale, glyph: GLYPHS.stale, word: 'stale' };
    case 'offline':
      return { color: p.offline, glyph: GLYPHS.offline, word: 'offline' };
  }
}

const STATUS_STYLES: Readonly<Record<string, { color: ColorName; glyph: string; word?: string }>> = {
  pending: { color: 'muted', glyph: GLYPHS.pending },
  dispatched: { color: 'pending', glyph: GLYPHS.dispatched },
  running: { color: 'pending', glyph: GLYPHS.running },
  waiting_approval: { color: 'warn', glyph: GLYPHS.waiting, word: 'waiting' },
  approval_required: { color: 'warn', glyph: GLYPHS.waiting, word: 'approval' },
  completed: { color: 'ok', glyph: GLYPHS.ok },
  failed: { color: 'error', glyph: GLYPHS.failed },
  timeout: { color: 'error', glyph: GLYPHS.timeout },
  cancelled: { color: 'muted', glyph: GLYPHS.cancelled },
  skipped: { color: 'muted', glyph: GLYPHS.skipped },
  open: { color: 'warn', glyph: '○' },
  acknowledged: { color: 'pending', glyph: '◐', word: 'ack' },
  resolved: { color: 'ok', glyph: GLYPHS.ok },
  false_positive: { color: 'muted', glyph: GLYPHS.cancelled, word: 'false pos' },
};

/**
 * A run / step / orchestration-run status or a triage status: colour, glyph and word. Unknown statuses get a
 * neutral style with the status itself as the word.
 */
export function statusStyle(status: string, p: Palette = palette): Style {
  const s = STATUS_STYLES[status];
  if (s === undefined) return { color: undefined, glyph: '?', word: status };
  return { color: p[s.color], glyph: s.glyph, word: s.word ?? status };
}
