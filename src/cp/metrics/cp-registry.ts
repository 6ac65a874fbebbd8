import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import { HOST_STATES } from '../../protocol/api.js';
import type { MetricCollector, MetricSample } from './collector.js';
import type { CpCounters } from './cp-counters.js';
import type { CpMetricSources, MetricsText } from './cp-metrics.js';
import { histogramSamples } from '../../metrics/plain-histogram.js';

// Loaded on the first scrape (cp-metrics.ts imports it with import()): the only module of the CP that loads prom-client.

type Labels = Readonly<Record<string, string | number>>;
interface Value {
  labels: Labels;
  value: number;
  /** For a histogram's `_bucket`, `_sum` and `_count` lines. */
  metricName?: string;
}

/**
 * A metric whose values are read at scrape time from state kept elsewhere (our counters, the parts). prom-client's
 * Registry asks a metric for `name`, `type` and `get()` only, so it takes these as its own Counter/Gauge/Histogram.
 */
interface ReadMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Value[] }>;
  reset(): void;
}

const read = (name: string, help: string, type: ReadMetric['type'], values: () => Value[]): ReadMetric => ({
  name, help, type, aggregator: 'sum',
  async get() {
    let v: Value[] = [];
    try {
      v = values();
    } catch {
      // One source failing (a store refusing the count) leaves this metric out of the scrape, not the scrape out.
    }
    return { name, help, type, aggregator: 'sum', values: v };
  },
  reset: () => undefined,
});
const one = (value: number): Value[] => [{ labels: {}, value }];
const by = <K extends string>(label: string, record: Readonly<Record<K, number>>): Value[] =>
  (Object.entries(record) as [K, number][]).map(([k, value]) => ({ labels: { [label]: k }, value }));


const sumOf = (record: Readonly<Record<string, number | undefined>>): number => Object.values(record).reduce<number>((n, v) => n + (v ?? 0), 0);

/** `fn`'s value, computed again at most every `ms`: a scrape may be unauthenticated (`--metrics-listen`). */
function reusedFor(ms: number, fn: () => number): () => number {
  let last: { at: number; value: number } | undefined;
  return () => {
    const at = performance.now();
    if (!last || at - last.at >= ms) last = { at, value: fn() };
    return last.value;
  };
}

/** The CP's metrics (docs/metrics.md lists them) over its sources. */
function cpMetrics(s: CpMetricSources, c: CpCounters): ReadMetric[] {
  // A scan of the runs table (as the overdue sweep's): at most one every 5 s however often anyone scrapes.
  const runsActive = reusedFor(5_000, () => s.runsActive());
  return [
    read('okesu_build_info', 'The running CP\'s version (always 1).', 'gauge', () => [{ labels: { version: s.version }, value: 1 }]),
    read('okesu_hosts', 'Registered hosts by liveness state, as this replica judges them.', 'gauge', () => {
      const states = s.hostStates();
      return HOST_STATES.map((state) => ({ labels: { state }, value: states[state] }));
    }),
    read('okesu_tunnels_open', 'Daimon tunnels open on this replica.', 'gauge', () => one(s.tunnelsOpen())),
    read('okesu_heartbeats_total', 'Heartbeats heard by this replica (tunnel frames and bucket heartbeats).', 'counter', () => one(s.heartbeats())),
    read('okesu_dispatches_total', 'Agent run dispatches by result: sent (handed to a route), failed (no route reached the host, or the send failed), refused (by the host).', 'counter', () => by('result', c.dispatches)),
    read('okesu_runs_started_total', 'Agent runs whose host reported their start (dispatched runs and scheduled ticks).', 'counter', () => one(c.runsStarted)),
    read('okesu_runs_finished_total', 'Agent runs that reached an end status, by status.', 'counter', () => by('status', c.runsFinished)),
    read('okesu_runs_active', 'Agent runs dispatched or running, fleet-wide.', 'gauge', () => one(runsActive())),
    read('okesu_run_duration_seconds', 'Agent run duration from its start on the host (its creation, if it never started) to its end, by end status.', 'histogram', () =>
      histogramSamples('okesu_run_duration_seconds', Object.entries(c.runDuration).map(([status, h]) => ({ labels: { status }, h })))),
    read('okesu_events_ingested_total', 'Run transcript events stored (duplicates and refused records not counted).', 'counter', () => one(c.eventsIngested)),
    read('okesu_findings_ingested_total', 'Findings stored, by severity.', 'counter', () => by('severity', c.findingsIngested)),
    read('okesu_ingest_queue_depth', 'Event records accepted and not yet committed.', 'gauge', () => one(s.ingestQueueDepth())),
    read('okesu_ingest_commit_duration_seconds', 'Time of one ingest group commit (one transaction).', 'histogram', () => histogramSamples('okesu_ingest_commit_duration_seconds', [{ labels: {}, h: c.commitDuration }])),
    read('okesu_stream_clients', 'Operator live-stream WebSockets open on this replica.', 'gauge', () => one(s.streamClients())),
    read('okesu_operator_connections', 'Live operator connections (streams, long polls) on this replica.', 'gauge', () => one(s.operatorConnections())),
    read('okesu_auth_failures_total', 'Failed authentications by kind: operator (API token), register (join token), tunnel (host certificate or credential).', 'counter', () => {
      const f = s.authFailures().failures;
      return by('kind', { operator: sumOf(f.operator), register: sumOf(f.register), tunnel: sumOf(f.tunnel) });
    }),
    read('okesu_auth_refusals_total', 'Attempts refused by the per-address failure budget (429s, and connections closed at accept).', 'counter', () => {
      const snap = s.authFailures();
      return one(sumOf(snap.limited) + snap.dropped);
    }),
    read('okesu_store_errors_total', 'Store failures (disk full, I/O, unavailable) by the operation that met them.', 'counter', () =>
      [...s.storeErrors()].map(([operation, value]) => ({ labels: { operation }, value }))),
    read('okesu_bucket_scan_lag_seconds', 'Jobs mode: seconds since the start of the bucket scanner\'s last complete pass (present while this replica scans).', 'gauge', () => {
      const scans = s.bucketScans();
      return scans ? one(scans.lagSeconds) : [];
    }),
    read('okesu_bucket_scans_total', 'Jobs mode: bucket scanner passes by result (ok, failed).', 'counter', () => {
      const scans = s.bucketScans();
      return scans ? by('result', { ok: scans.ok, failed: scans.failed }) : [];
    }),
    read('okesu_replica_leader', '1 while this replica leads (a single CP always does), else 0.', 'gauge', () => one(s.isLeader() ? 1 : 0)),
  ];
}

/** A metric another part added (`addCollector`). */
function collected(m: MetricCollector): ReadMetric {
  return read(m.name, m.help, m.type, () => {
    const v = m.collect();
    return typeof v === 'number' ? one(v) : v.map((sample: MetricSample) => ({ labels: sample.labels, value: sample.value }));
  });
}

/** Builds one CP's registry: its metrics, the collectors added so far (and later, at each render), Node's defaults. */
export function createCpRegistry(s: CpMetricSources, c: CpCounters, collectors: readonly MetricCollector[]): { render(): Promise<MetricsText> } {
  const registry = new Registry();
  const register = (m: ReadMetric): void => registry.registerMetric(m as unknown as Metric);
  for (const m of cpMetrics(s, c)) register(m);
  collectDefaultMetrics({ register: registry });
  return {
    async render() {
      for (const m of collectors) if (!registry.getSingleMetric(m.name)) register(collected(m));
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
  };
}
