/*
 * The daimon's Prometheus registry (prom-client; loaded on use, with `--metrics-listen` only): every okesu_daimon_*
 * series is read from the plain counters at scrape time, plus prom-client's process_* and nodejs_* defaults.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Metric } from 'prom-client';
import { histogramSamples } from '../../src/metrics/plain-histogram.js';
import type { DaimonCounters } from './daimon-counters.js';

/** A histogram whose buckets the counters already hold: prom-client's Histogram can only observe, not be set. */
function collectorDurationMetric(counters: DaimonCounters): Metric {
  const name = 'okesu_daimon_collector_duration_seconds';
  const metric = {
    name,
    help: 'Time a collector took, from start to exit, by agent and collector.',
    type: 'histogram',
    aggregator: 'sum',
    get: () => {
      const values = histogramSamples(name, [...counters.collectors.values()].map((s) => ({ labels: { agent: s.agent, collector: s.collector }, h: s.durations })));
      return { name, help: metric.help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  // The registry only reads name, type and get(); the cast is the price of not being one of prom-client's classes.
  return metric as unknown as Metric;
}

/** A counter whose value is read from the counters at scrape time. */
function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name, help, registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge whose value is read from the counters at scrape time. */
function readGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name, help, registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** Builds the registry over `counters`; `version` labels okesu_daimon_build_info. */
export function createDaimonRegistry(counters: DaimonCounters, version: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({ name: 'okesu_daimon_build_info', help: 'Always 1; the version of this daimon is its label.', labelNames: ['version'], registers: [registry] }).set({ version }, 1);
  readGauge(registry, 'okesu_daimon_spool_pending_events', 'Event records in the spool the CP has not acknowledged.', () => counters.spool?.depth() ?? 0);
  readGauge(registry, 'okesu_daimon_spool_bytes', 'Bytes on disk of the un-acknowledged spooled event records.', () => counters.spool?.bytes() ?? 0);
  readCounter(registry, 'okesu_daimon_events_sent_total', 'Event records handed to the transport (resends after a reconnect count again).', () => counters.eventsSent);
  readCounter(registry, 'okesu_daimon_events_acked_total', 'Event records the CP acknowledged (they leave the spool).', () => counters.eventsAcked);
  readGauge(registry, 'okesu_daimon_tunnel_connected', '1 while the tunnel to the CP is up (welcomed), else 0; always 0 in jobs mode.', () => counters.tunnelConnected);
  readCounter(registry, 'okesu_daimon_tunnel_reconnects_total', 'Reconnect attempts after the tunnel closed or failed to open.', () => counters.tunnelReconnects);
  readCounter(registry, 'okesu_daimon_runs_started_total', 'Runs started on this host (dispatched or ticked).', () => counters.runsStarted);
  readGauge(registry, 'okesu_daimon_runs_active', 'Runs executing now.', () => counters.runsActive);
  new Counter({
    name: 'okesu_daimon_runs_finished_total', help: 'Runs ended, by final status.', labelNames: ['status'], registers: [registry],
    collect() {
      this.reset();
      for (const [status, n] of Object.entries(counters.runsFinished)) this.inc({ status }, n);
    },
  });
  new Counter({
    name: 'okesu_daimon_findings_total', help: 'Findings this daimon reported, by severity (after a tick\'s local dedup).', labelNames: ['severity'], registers: [registry],
    collect() {
      this.reset();
      for (const [severity, n] of Object.entries(counters.findings)) this.inc({ severity }, n);
    },
  });
  new Counter({
    name: 'okesu_daimon_collector_failures_total', help: 'Collector runs that failed (exit code, timeout, denied, could not start), by agent and collector.',
    labelNames: ['agent', 'collector'], registers: [registry],
    collect() {
      this.reset();
      for (const s of counters.collectors.values()) this.inc({ agent: s.agent, collector: s.collector }, s.failures);
    },
  });
  registry.registerMetric(collectorDurationMetric(counters));
  return registry;
}
