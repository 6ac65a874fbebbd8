import type { StoredFinding } from '../../../src/protocol/finding.js';
import type { FindingClusterView, FindingGroupView } from '../../../src/protocol/findings-api.js';
import type { Column, Row } from '../../components/table-layout.js';
import { formatAge, formatTime } from '../../components/text.js';
import type { Ring } from '../../store/ring.js';
import { palette, severityStyle, statusStyle, type Palette } from '../../theme.js';
import { matchesCluster, matchesFinding, matchesGroup, type FilterTerm } from './finding-filter.js';

/** Columns of the live feed. */
export const FEED_COLUMNS: readonly Column[] = [
  { id: 'time', title: 'TIME' },
  { id: 'severity', title: 'SEV', width: 6 },
  { id: 'host', title: 'HOST' },
  { id: 'agent', title: 'AGENT' },
  { id: 'title', title: 'TITLE', grow: true },
  { id: 'status', title: 'STATUS', width: 11 },
];

/** Findings of the feed that match `terms`, newest first. */
export function feedFindings(feed: Ring<StoredFinding>, terms: readonly FilterTerm[]): StoredFinding[] {
  const all = feed.toArray();
  const out: StoredFinding[] = [];
  for (let i = all.length - 1; i >= 0; i--) if (terms.length === 0 || matchesFinding(all[i]!, terms)) out.push(all[i]!);
  return out;
}

/** One feed row: when (local time, with the date when not today), severity glyph + word, host, agent, title, status. */
export function feedRow(f: StoredFinding, now: number, p: Palette = palette): Row {
  const sev = severityStyle(f.severity, p);
  const status = statusStyle(f.status, p);
  return {
    key: String(f.id),
    cells: [formatTime(f.ts, now), `${sev.glyph} ${sev.word}`, f.host, f.agent, f.title, `${status.glyph} ${status.word}`],
    colors: [undefined, sev.color, undefined, undefined, undefined, status.color],
    dim: f.status === 'resolved' || f.status === 'false_positive',
  };
}

/** Rows already made, per finding object (findings are immutable: a triage makes a new one), for one day. */
let rowCache = { day: -1, rows: new WeakMap<StoredFinding, Row>() };

/**
 * Feed rows for `list`, reusing the row of every finding seen before, so a stream batch into a 5,000-finding feed
 * maps only the new findings. The cache is dropped when the local day changes (times show a date when not today).
 */
export function feedRows(list: readonly StoredFinding[], now: number): Row[] {
  const d = new Date(now);
  const day = d.getFullYear() * 400 + d.getMonth() * 32 + d.getDate();
  if (rowCache.day !== day) rowCache = { day, rows: new WeakMap() };
  const { rows } = rowCache;
  return list.map((f) => {
    let row = rows.get(f);
    if (row === undefined) rows.set(f, (row = feedRow(f, now)));
    return row;
  });
}

/** Columns of the fingerprint groups. */
export const GROUP_COLUMNS: readonly Column[] = [
  { id: 'severity', title: 'SEV', width: 6 },
  { id: 'count', title: '×N', align: 'right' },
  { id: 'title', title: 'TITLE', grow: true },
  { id: 'agent', title: 'AGENT' },
  { id: 'hosts', title: 'HOSTS', align: 'right' },
  { id: 'open', title: 'OPEN', align: 'right' },
  { id: 'last', title: 'LAST', align: 'right' },
];

/** Groups that match `terms`, in the CP's order (most recently seen first). */
export function filterGroups(groups: readonly FindingGroupView[], terms: readonly FilterTerm[]): readonly FindingGroupView[] {
  return terms.length === 0 ? groups : groups.filter((g) => matchesGroup(g, terms));
}

/** One group row: severity, ×count, title, agent, host count, open count, last seen (age). */
export function groupRow(g: FindingGroupView, now: number, p: Palette = palette): Row {
  const sev = severityStyle(g.severity, p);
  return {
    key: g.fingerprint,
    cells: [`${sev.glyph} ${sev.word}`, `×${g.count}`, g.title, g.agent, String(g.hosts), String(g.open), formatAge(now - g.last_seen)],
    colors: [sev.color, undefined, undefined, undefined, undefined, g.open > 0 ? p.warn : undefined, undefined],
    dim: g.open === 0,
  };
}

/** Columns of the indicator clusters. */
export const CLUSTER_COLUMNS: readonly Column[] = [
  { id: 'indicator', title: 'INDICATOR', grow: true },
  { id: 'kind', title: 'KIND' },
  { id: 'findings', title: 'FINDINGS', align: 'right' },
  { id: 'hosts', title: 'HOSTS', align: 'right' },
  { id: 'severity', title: 'MAX SEV', width: 7 },
  { id: 'sample', title: 'ON', grow: true },
  { id: 'last', title: 'LAST', align: 'right' },
];

/** Clusters that match `terms`, in the CP's order (most findings first). */
export function filterClusters(clusters: readonly FindingClusterView[], terms: readonly FilterTerm[]): readonly FindingClusterView[] {
  return terms.length === 0 ? clusters : clusters.filter((c) => matchesCluster(c, terms));
}

/** One cluster row: indicator, kind, findings, hosts, max severity, a sample of its hosts, last seen (age). */
export function clusterRow(c: FindingClusterView, now: number, p: Palette = palette): Row {
  const sev = severityStyle(c.max_severity, p);
  const more = c.hosts > c.sample_hosts.length ? ` +${c.hosts - c.sample_hosts.length}` : '';
  return {
    key: `${c.kind}:${c.indicator}`,
    cells: [c.indicator, c.kind, String(c.findings), String(c.hosts), `${sev.glyph} ${sev.word}`, c.sample_hosts.join(',') + more, formatAge(now - c.last_seen)],
    colors: [undefined, undefined, undefined, undefined, sev.color, undefined, undefined],
  };
}
