import { SEVERITIES, type Severity, type StoredFinding } from '../../../src/protocol/finding.js';
import { formatTime, sanitize, textWidth, truncate } from '../../components/text.js';
import { palette, severityStyle, statusStyle, type Palette } from '../../theme.js';

/**
 * One line of the finding view: a label column (empty for a value's continuation lines; undefined for a full-width
 * line of the evidence or the raw event), the text, how to draw it.
 */
export interface DetailLine {
  label?: string;
  text: string;
  color?: string | undefined;
  bold?: boolean;
  /** A section heading (`Evidence`, `Raw event`). */
  heading?: boolean;
}

/** Width of the label column. */
export const LABEL_WIDTH = 13;

/** Cuts sanitized `text` into lines of at most `width` columns (at spaces when it can). */
export function wrap(text: string, width: number): string[] {
  const clean = sanitize(text);
  if (width <= 1 || textWidth(clean) <= width) return [clean];
  const out: string[] = [];
  let rest = clean;
  while (textWidth(rest) > width) {
    // Code points, not columns: close enough for wrapping (truncate() makes the final cut width-exact).
    const chars = [...rest];
    let cut = chars.slice(0, width).join('').lastIndexOf(' ');
    if (cut < width / 3) cut = chars.slice(0, width).join('').length;
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest !== '') out.push(rest);
  return out;
}

/** The parts of a finding the view shows, from the stored finding or, when it left the feed, from its raw event. */
export function findingFromEvent(id: number, event: Record<string, unknown>): Partial<StoredFinding> & { id: number } {
  const str = (k: string): string | undefined => (typeof event[k] === 'string' ? (event[k] as string) : undefined);
  const sev = str('severity')?.toUpperCase();
  return {
    id,
    ...(sev !== undefined && (SEVERITIES as readonly string[]).includes(sev) && { severity: sev as Severity }),
    ...(str('title') !== undefined && { title: str('title') }),
    ...(str('host') !== undefined && { host: str('host') }),
    ...(str('agent') !== undefined && { agent: str('agent') }),
    ...(str('run_id') !== undefined && { run_id: str('run_id') }),
    ...(typeof event.ts === 'number' && { ts: event.ts }),
  };
}

/**
 * Every line of the finding view for a content `width`: the fields (severity, title, status, host, agent, run,
 * time, category, resource, dedup key, fingerprint, indicators, recommended action, tags, attributes), the evidence,
 * and the raw event as pretty JSON (or a note while it loads). Values are sanitized; long ones wrap.
 */
export function findingLines(
  f: Partial<StoredFinding> & { id: number },
  event: Record<string, unknown> | undefined,
  width: number,
  now: number,
  p: Palette = palette,
): DetailLine[] {
  const lines: DetailLine[] = [];
  const room = Math.max(10, width - LABEL_WIDTH);
  const field = (label: string, value: string | undefined, color?: string): void => {
    if (value === undefined || value === '') return;
    wrap(value, room).forEach((text, i) => lines.push({ label: i === 0 ? label : '', text, color }));
  };
  const sev = f.severity !== undefined ? severityStyle(f.severity, p) : undefined;
  lines.push({ label: sev ? `${sev.glyph} ${sev.word}` : '?', text: truncate(sanitize(f.title ?? `finding #${f.id}`), room), color: sev?.color, bold: true });
  if (f.status !== undefined) {
    const st = statusStyle(f.status, p);
    field('status', `${st.glyph} ${st.word}`, st.color);
  }
  field('host', f.host);
  field('agent', f.agent === undefined ? undefined : `${f.agent}${f.agent_version ? ` ${f.agent_version}` : ''}`);
  field('run', f.run_id);
  field('time', f.ts === undefined ? undefined : `${formatTime(f.ts, now)}${f.received_at !== undefined ? ` (received ${formatTime(f.received_at, now)})` : ''}`);
  field('category', f.category);
  field('resource', f.resource);
  field('dedup key', f.dedup_key);
  field('fingerprint', f.fingerprint);
  field('indicators', f.indicators?.join(', '));
  field('action', f.recommended_action, p.accent);
  field('tags', f.tags?.join(', '));
  for (const [k, v] of Object.entries(f.attributes ?? {})) field(lines.some((l) => l.label === 'attributes') ? '' : 'attributes', `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (f.evidence !== undefined && f.evidence.length > 0) {
    lines.push({ text: '' }, { text: `Evidence (${f.evidence.length} lines)`, heading: true });
    for (const e of f.evidence) wrap(e, Math.max(10, width - 2)).forEach((text) => lines.push({ text }));
  }
  lines.push({ text: '' }, { text: 'Raw event', heading: true });
  if (event === undefined) lines.push({ text: 'loading from the CP…', color: p.muted });
  // JSON escapes C0 controls; sanitize drops what it does not (C1, bidi overrides).
  else for (const line of JSON.stringify(event, null, 2).split('\n')) lines.push({ text: truncate(sanitize(line), Math.max(10, width - 2)) });
  return lines;
}
