import type { FindingSummary } from '../../../../src/protocol/api.js';
import { SEVERITIES, type Severity, type StoredFinding } from '../../../../src/protocol/finding.js';
import type { FindingClusterView, FindingGroupView } from '../../../../src/protocol/findings-api.js';
import type { DataEvent } from '../../../../tui/store/events.js';
import { emptySummary } from '../../../../tui/store/initial-state.js';

// Times are drawn in local time: pin it so rows and frames read the same everywhere.
process.env.TZ = 'UTC';

/** A fixed clock for frames: 2026-01-15 12:00:00 UTC (the frame helper's FRAME_NOW). */
export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

/** A stored finding with sensible defaults. */
export function finding(id: number, over: Partial<StoredFinding> = {}): StoredFinding {
  return {
    id,
    severity: 'HIGH',
    title: `finding ${id}`,
    category: 'process',
    resource: `/proc/${1000 + id}`,
    evidence: [],
    dedup_key: '',
    tags: [],
    attributes: {},
    fingerprint: `fp${id}`,
    host: 'web-01',
    agent: 'host-check',
    agent_version: '1',
    run_id: `r_01JD0000000000000000000${String(id).padStart(3, '0')}`.slice(0, 28),
    seq: id,
    ts: NOW - 1000 * (100 - id),
    received_at: NOW - 1000 * (100 - id),
    status: 'open',
    indicators: [],
    ...over,
  };
}

const TITLES = ['Reverse shell to 203.0.113.7', 'SSH key added to root', 'Disk 93% full on /var', 'Certificate expires in 6 days', 'Unknown listener on :4444', 'World-writable /etc/cron.d file', 'Package index stale'];
const HOSTS = ['web-01', 'web-02', 'db-01', 'cache-01', 'edge-03'];
const AGENTS = ['host-check', 'ioc-sweep', 'sre-health'];

/** `n` findings of mixed severities, hosts, agents and statuses, oldest first, one second apart ending at NOW. */
export function burst(n: number): StoredFinding[] {
  return Array.from({ length: n }, (_, i) =>
    finding(i + 1, {
      severity: SEVERITIES[(i * 3) % SEVERITIES.length] as Severity,
      title: TITLES[i % TITLES.length]!,
      host: HOSTS[i % HOSTS.length]!,
      agent: AGENTS[i % AGENTS.length]!,
      status: i % 11 === 0 ? 'acknowledged' : i % 13 === 0 ? 'resolved' : 'open',
      fingerprint: `fp-${i % TITLES.length}`,
      ts: NOW - 1000 * (n - i),
      received_at: NOW - 1000 * (n - i),
    }),
  );
}

/** A fingerprint group. */
export function group(n: number, over: Partial<FindingGroupView> = {}): FindingGroupView {
  return {
    fingerprint: `fp-${n}`,
    severity: 'HIGH',
    title: TITLES[n % TITLES.length]!,
    category: 'process',
    agent: AGENTS[n % AGENTS.length]!,
    count: 10 + n,
    open: 3 + n,
    hosts: 2 + n,
    sample_hosts: HOSTS.slice(0, Math.min(5, 2 + n)),
    first_seen: NOW - 86_400_000,
    last_seen: NOW - 60_000 * (n + 1),
    last_finding_id: 100 + n,
    ...over,
  };
}

/** An indicator cluster. */
export function cluster(indicator: string, over: Partial<FindingClusterView> = {}): FindingClusterView {
  return { indicator, kind: 'ip', findings: 12, hosts: 4, sample_hosts: HOSTS.slice(0, 4), max_severity: 'CRITICAL', last_seen: NOW - 120_000, ...over };
}

/** A summary with counts in every section. */
export function summary(): FindingSummary {
  return {
    total: 240,
    by_severity: { CRITICAL: 4, HIGH: 36, MEDIUM: 80, LOW: 70, INFO: 50 },
    by_category: { process: 90, network: 60, file: 40, cert: 20, config: 30 },
    by_agent: { 'host-check': 120, 'ioc-sweep': 80, 'sre-health': 40 },
    groups: 31,
    by_status: { open: 150, acknowledged: 50, resolved: 30, false_positive: 10 },
    open_by_severity: { CRITICAL: 3, HIGH: 20, MEDIUM: 60, LOW: 40, INFO: 27 },
  };
}

/** A `snapshot` event: who the token is and the data parts given (the rest empty). */
export function snapshot(over: Partial<Extract<DataEvent, { type: 'snapshot' }>> = {}): DataEvent {
  return {
    type: 'snapshot',
    at: NOW,
    me: { name: 'alice', role: 'operator' },
    hosts: [],
    summary: emptySummary(),
    findings: [],
    cursor: 0,
    groups: [],
    clusters: [],
    runs: [],
    orchestrationRuns: [],
    orchestrations: [],
    agents: [],
    ...over,
  };
}

/** The stream is open: frames read as a live console rather than "connecting…". */
export const CONNECTED: DataEvent = { type: 'connection', state: 'open', detail: null, at: NOW };
