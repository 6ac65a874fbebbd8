import type { FindingSummary } from '../../../src/protocol/api.js';
import { SEVERITIES, TRIAGE_STATUSES } from '../../../src/protocol/finding.js';
import { palette, severityStyle, statusStyle, type Palette } from '../../theme.js';

/** One line of a breakdown section: a label (glyph + word where there is a state), its count, a bar. */
export interface BreakdownLine {
  label: string;
  count: number;
  /** A second figure (open findings of a severity), or undefined. */
  note?: string;
  /** Cells of the bar filled, out of the section's `barWidth`. */
  filled: number;
  color: string | undefined;
}

/** A titled block of the breakdown sub-view. */
export interface BreakdownSection {
  title: string;
  lines: BreakdownLine[];
  /** Entries not shown (sections are cut to `maxLines`). */
  more: number;
}

/** Cells filled for `count` out of `max` on a bar of `width` cells: at least one for any non-zero count. */
export function barCells(count: number, max: number, width: number): number {
  if (count <= 0 || max <= 0 || width <= 0) return 0;
  return Math.max(1, Math.round((count / max) * width));
}

/** A bar string: `filled` blocks then light shade to `width` (`██████░░░░`). */
export function bar(filled: number, width: number): string {
  const f = Math.max(0, Math.min(width, filled));
  return '█'.repeat(f) + '░'.repeat(width - f);
}

function lines(entries: [string, number, string | undefined][], barWidth: number): BreakdownLine[] {
  const max = Math.max(0, ...entries.map((e) => e[1]));
  return entries.map(([label, count, color]) => ({ label, count, filled: barCells(count, max, barWidth), color }));
}

/** Map entries, most first then by name, cut to `maxLines`. */
function ranked(counts: Readonly<Record<string, number>>, maxLines: number): { entries: [string, number][]; more: number } {
  const all = Object.entries(counts).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { entries: all.slice(0, maxLines), more: Math.max(0, all.length - maxLines) };
}

/**
 * The breakdown sub-view's sections from the summary: severity (every level, total with open in the note),
 * triage status (every status), category and agent (most first, at most `maxLines` each).
 */
export function breakdownSections(summary: FindingSummary, barWidth: number, maxLines: number, p: Palette = palette): BreakdownSection[] {
  const severity = lines(
    SEVERITIES.map((s) => {
      const st = severityStyle(s, p);
      return [`${st.glyph} ${st.word}`, summary.by_severity[s] ?? 0, st.color];
    }),
    barWidth,
  ).map((line, i) => ({ ...line, note: `${summary.open_by_severity[SEVERITIES[i]!] ?? 0} open` }));
  const status = lines(
    TRIAGE_STATUSES.map((s) => {
      const st = statusStyle(s, p);
      return [`${st.glyph} ${st.word}`, summary.by_status[s] ?? 0, st.color];
    }),
    barWidth,
  );
  const category = ranked(summary.by_category, maxLines);
  const agent = ranked(summary.by_agent, maxLines);
  return [
    { title: `Severity (${summary.total} findings, ${summary.groups} groups)`, lines: severity, more: 0 },
    { title: 'Status', lines: status, more: 0 },
    { title: 'Category', lines: lines(category.entries.map(([k, n]) => [k, n, undefined]), barWidth), more: category.more },
    { title: 'Agent', lines: lines(agent.entries.map(([k, n]) => [k, n, undefined]), barWidth), more: agent.more },
  ];
}
