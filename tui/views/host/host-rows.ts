import type { HostView, RunView } from '../../../src/protocol/api.js';
import type { StoredFinding } from '../../../src/protocol/finding.js';
import type { Column, Row } from '../../components/table.js';
import { formatAge, formatTime } from '../../components/text.js';
import type { Ring } from '../../store/ring.js';
import { hostStateStyle, palette, severityStyle, statusStyle, type Palette } from '../../theme.js';
import { heartbeatAge, labelText } from '../fleet/fleet-rows.js';
import { formatPoll, formatTransport } from '../../../src/protocol/host-transport.js';

/** One fact of the host: a label, its value, and the value's colour. */
export interface Fact {
  label: string;
  value: string;
  color?: string | undefined;
}

/** The host's facts, in display order (values unsanitized: the view sanitizes). */
export function hostFacts(h: HostView, now: number, p: Palette = palette): Fact[] {
  const s = hostStateStyle(h.state, p);
  return [
    { label: 'state', value: `${s.glyph} ${s.word}${h.connected ? ', connected' : ''}`, color: s.color },
    { label: 'os / arch', value: `${h.os || '?'} / ${h.arch || '?'}` },
    { label: 'version', value: h.version || '?' },
    { label: 'transport', value: `${formatTransport(h)}${h.poll_ms === null ? '' : `, polls every ${formatPoll(h)}`}` },
    { label: 'registered', value: `${formatTime(h.registered_at, now)} (${formatAge(now - h.registered_at)} ago)` },
    {
      label: 'heartbeat',
      value: h.last_heartbeat === null ? 'never' : `${heartbeatAge(h, now)} ago (seq ${h.heartbeat_seq ?? '?'})`,
      color: h.state === 'online' ? undefined : s.color,
    },
    { label: 'runs', value: `${h.running} in flight` },
    { label: 'spool', value: `${h.spool_depth} queued`, color: h.spool_depth > 0 ? p.warn : undefined },
    { label: 'labels', value: labelText(h.labels) || '(none)' },
  ];
}

/** Columns of the host's recent runs. */
export const RUN_COLUMNS: readonly Column[] = [
  { id: 'status', title: 'STATUS', width: 12 },
  { id: 'agent', title: 'AGENT', grow: true },
  { id: 'run', title: 'RUN' },
  { id: 'age', title: 'AGE', width: 4, align: 'right' },
  { id: 'findings', title: 'FINDINGS', width: 8, align: 'right' },
];

/** The host's newest `limit` runs, newest first. */
export function hostRuns(runs: ReadonlyMap<string, RunView>, hostname: string, limit: number): RunView[] {
  const mine: RunView[] = [];
  for (const r of runs.values()) if (r.host === hostname) mine.push(r);
  return mine.sort((a, b) => b.created_at - a.created_at).slice(0, Math.max(0, limit));
}

/** Rows for the host's runs: status glyph + word (coloured), agent, run id, age, findings. */
export function runRows(runs: readonly RunView[], now: number, p: Palette = palette): Row[] {
  return runs.map((r) => {
    const s = statusStyle(r.status, p);
    return {
      key: r.run_id,
      cells: [`${s.glyph} ${s.word}`, r.agent, r.run_id, formatAge(now - r.created_at), String(r.findings)],
      colors: [s.color],
    };
  });
}

/** Columns of the host's findings. */
export const FINDING_COLUMNS: readonly Column[] = [
  { id: 'severity', title: 'SEV', width: 6 },
  { id: 'title', title: 'TITLE', grow: true },
  { id: 'status', title: 'STATUS', width: 11 },
  { id: 'age', title: 'AGE', width: 4, align: 'right' },
];

/** The host's newest `limit` findings from the live feed, newest first (walks the ring from the newest end). */
export function hostFindings(feed: Ring<StoredFinding>, hostname: string, limit: number): StoredFinding[] {
  const out: StoredFinding[] = [];
  for (let i = 0; out.length < limit && i < feed.size; i++) {
    const f = feed.newest(i);
    if (f?.host === hostname) out.push(f);
  }
  return out;
}

/** Rows for the host's findings: severity glyph + word, title, triage status, age. */
export function findingRows(findings: readonly StoredFinding[], now: number, p: Palette = palette): Row[] {
  return findings.map((f) => {
    const sev = severityStyle(f.severity, p);
    const st = statusStyle(f.status, p);
    return {
      key: String(f.id),
      cells: [`${sev.glyph} ${sev.word}`, f.title, `${st.glyph} ${st.word}`, formatAge(now - f.ts)],
      colors: [sev.color, undefined, st.color],
      dim: f.status !== 'open',
    };
  });
}
