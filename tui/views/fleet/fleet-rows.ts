import type { HostView } from '../../../src/protocol/api.js';
import { certExpiry } from '../../../src/protocol/cert-expiry.js';
import { formatTransport } from '../../../src/protocol/host-transport.js';
import type { Column, Row } from '../../components/table.js';
import { formatAge, sanitize } from '../../components/text.js';
import type { ConsoleState } from '../../store/state.js';
import { frameKey, type ViewFrame } from '../../store/ui-state.js';
import { hostStateStyle, palette, type Palette } from '../../theme.js';

/** Columns `s` cycles through, in order; the first is the default sort. */
export const FLEET_SORT_COLUMNS = ['host', 'state', 'transport', 'version', 'heartbeat', 'runs', 'findings'] as const;
/** A fleet sort column. */
export type FleetSortColumn = (typeof FLEET_SORT_COLUMNS)[number];

/** The fleet's sort: a column and its direction. */
export interface FleetSort {
  column: FleetSortColumn;
  desc: boolean;
}

/** The sort in `ui.sort.fleet` (default: hostname ascending; an unknown column falls back to it). */
export function fleetSort(sort: { column: string; desc: boolean } | undefined): FleetSort {
  const column = FLEET_SORT_COLUMNS.find((c) => c === sort?.column);
  return column === undefined ? { column: 'host', desc: false } : { column, desc: sort?.desc ?? false };
}

/** The column `s` moves to after `column`. */
export function nextSortColumn(column: FleetSortColumn): FleetSortColumn {
  return FLEET_SORT_COLUMNS[(FLEET_SORT_COLUMNS.indexOf(column) + 1) % FLEET_SORT_COLUMNS.length]!;
}

/**
 * True when `host` matches the `/` filter: every whitespace-separated term (case-insensitive) is a substring of the
 * hostname, of a label written `key=value`, or of the state.
 */
export function matchesFilter(host: HostView, filter: string): boolean {
  const terms = filter.toLowerCase().split(/\s+/).filter((t) => t !== '');
  if (terms.length === 0) return true;
  const hay = [host.hostname, host.state, ...Object.entries(host.labels).map(([k, v]) => `${k}=${v}`)].map((s) => s.toLowerCase());
  return terms.every((t) => hay.some((h) => h.includes(t)));
}

const STATE_ORDER: Readonly<Record<HostView['state'], number>> = { online: 0, stale: 1, offline: 2 };

function compareBy(column: FleetSortColumn, open: Readonly<Record<string, number>>): (a: HostView, b: HostView) => number {
  switch (column) {
    case 'host':
      return () => 0;
    case 'state':
      return (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state];
    case 'transport':
      return (a, b) => formatTransport(a).localeCompare(formatTransport(b));
    case 'version':
      return (a, b) => a.version.localeCompare(b.version, undefined, { numeric: true });
    case 'heartbeat':
      // Youngest heartbeat first; never-seen hosts last.
      return (a, b) => (b.last_heartbeat ?? -Infinity) - (a.last_heartbeat ?? -Infinity) || 0;
    case 'runs':
      return (a, b) => a.running - b.running;
    case 'findings':
      return (a, b) => (open[a.hostname] ?? 0) - (open[b.hostname] ?? 0);
  }
}

/** The hosts matching `filter`, sorted (ties by hostname, which keeps the order stable across refreshes). */
export function fleetHosts(
  hosts: ReadonlyMap<string, HostView>,
  filter: string,
  sort: FleetSort,
  openByHost: Readonly<Record<string, number>> | undefined,
): HostView[] {
  const open = openByHost ?? {};
  const cmp = compareBy(sort.column, open);
  const dir = sort.desc ? -1 : 1;
  const list = [...hosts.values()].filter((h) => matchesFilter(h, filter));
  return list.sort((a, b) => dir * (cmp(a, b) || (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0)));
}

/** The table's columns, the sorted one marked ↑/↓; a labels column when there is room. */
export function fleetColumns(sort: FleetSort, width: number): Column[] {
  const mark = (id: FleetSortColumn, title: string): string => (sort.column === id ? `${title}${sort.desc ? '↓' : '↑'}` : title);
  return [
    { id: 'state', title: mark('state', 'STATE'), width: 9 },
    { id: 'host', title: mark('host', 'HOST'), grow: width < 110 },
    { id: 'transport', title: mark('transport', 'TRANSPORT') },
    { id: 'version', title: mark('version', 'VERSION') },
    { id: 'heartbeat', title: mark('heartbeat', 'HEARTBEAT'), width: 10, align: 'right' },
    { id: 'runs', title: mark('runs', 'RUNS'), width: 5, align: 'right' },
    { id: 'findings', title: mark('findings', 'FINDINGS'), width: 9, align: 'right' },
    ...(width >= 110 ? [{ id: 'labels', title: 'LABELS', grow: true }] : []),
  ];
}

/** A host's heartbeat age (`4s`) or `never`. */
export function heartbeatAge(host: HostView, now: number): string {
  return host.last_heartbeat === null ? 'never' : formatAge(now - host.last_heartbeat);
}

/** A host's labels as `k=v k=v`. */
export function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/**
 * The hostname cell with a marker when the host's identity needs attention: `⚠ cert` once its renewal is overdue (a
 * third of its lifetime or less left), `✗ cert` once it expired (the host must join again); with its colour.
 */
export function hostCell(h: HostView, now: number, p: Palette = palette): { text: string; color: string | undefined } {
  switch (certExpiry(h.cert_issued_at, h.cert_expires_at, now)) {
    case 'expiring':
      return { text: `${h.hostname} ⚠ cert`, color: p.warn };
    case 'expired':
      return { text: `${h.hostname} ✗ cert`, color: p.error };
    case 'ok':
    case 'unknown':
      return { text: h.hostname, color: undefined };
  }
}

/**
 * One table row per host: state glyph + word (coloured), hostname (marked when its identity is expiring), transport, version, heartbeat age, runs in
 * flight, open findings (`-` when the CP did not count them), labels. Offline hosts are dimmed.
 */
export function fleetRows(
  hosts: readonly HostView[],
  openByHost: Readonly<Record<string, number>> | undefined,
  now: number,
  withLabels: boolean,
  p: Palette = palette,
): Row[] {
  return hosts.map((h) => {
    const s = hostStateStyle(h.state, p);
    const open = openByHost === undefined ? '-' : String(openByHost[h.hostname] ?? 0);
    const name = hostCell(h, now, p);
    const cells = [`${s.glyph} ${s.word}`, name.text, formatTransport(h), h.version, heartbeatAge(h, now), String(h.running), open];
    const colors = [s.color, name.color, undefined, undefined, h.state === 'online' ? undefined : s.color, undefined, open !== '0' && open !== '-' ? p.warn : undefined];
    if (withLabels) cells.push(sanitize(labelText(h.labels)));
    return { key: h.hostname, cells, colors, dim: h.state === 'offline' };
  });
}

/** Inputs of the last `selectFleetHosts` call and its answer (one entry: the view and its keys ask alike). */
let cache: { inputs: readonly unknown[]; hosts: HostView[] } | undefined;

/**
 * The fleet list for a state and frame (filtered and sorted), memoized on its inputs so the view's render and a
 * key handled before the next render see the same list without sorting 10,000 hosts twice.
 */
export function selectFleetHosts(state: ConsoleState, frame: ViewFrame): HostView[] {
  const filter = state.ui.filters[frameKey(frame)] ?? '';
  const sort = fleetSort(state.ui.sort['fleet']);
  // Open counts change with every streamed finding; they matter to the order only when sorting by them.
  const inputs = [state.hosts, filter, sort.column, sort.desc, sort.column === 'findings' ? state.summary.open_by_host : null];
  if (cache !== undefined && cache.inputs.every((v, i) => v === inputs[i])) return cache.hosts;
  const hosts = fleetHosts(state.hosts, filter, sort, state.summary.open_by_host);
  cache = { inputs, hosts };
  return hosts;
}
