/** A Prometheus metric family's type, as its `# TYPE` line says. */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

/** The CP's metrics (docs/metrics.md), by name: what examples/monitoring may use. */
export const CP_METRICS: Readonly<Record<string, MetricKind>> = {
  okesu_build_info: 'gauge',
  okesu_hosts: 'gauge',
  okesu_tunnels_open: 'gauge',
  okesu_heartbeats_total: 'counter',
  okesu_dispatches_total: 'counter',
  okesu_runs_started_total: 'counter',
  okesu_runs_finished_total: 'counter',
  okesu_runs_active: 'gauge',
  okesu_run_duration_seconds: 'histogram',
  okesu_events_ingested_total: 'counter',
  okesu_findings_ingested_total: 'counter',
  okesu_ingest_queue_depth: 'gauge',
  okesu_ingest_commit_duration_seconds: 'histogram',
  okesu_stream_clients: 'gauge',
  okesu_operator_connections: 'gauge',
  okesu_auth_failures_total: 'counter',
  okesu_auth_refusals_total: 'counter',
  okesu_store_errors_total: 'counter',
  okesu_bucket_scan_lag_seconds: 'gauge',
  okesu_bucket_scans_total: 'counter',
  okesu_replica_leader: 'gauge',
  okesu_notify_outbox_pending: 'gauge',
  okesu_notify_deliveries_total: 'counter',
};

/** The daimon's metrics (`okesu daemon --metrics-listen`; docs/metrics.md, section Daimon). */
export const DAIMON_METRICS: Readonly<Record<string, MetricKind>> = {
  okesu_daimon_build_info: 'gauge',
  okesu_daimon_spool_pending_events: 'gauge',
  okesu_daimon_spool_bytes: 'gauge',
  okesu_daimon_events_sent_total: 'counter',
  okesu_daimon_events_acked_total: 'counter',
  okesu_daimon_tunnel_connected: 'gauge',
  okesu_daimon_tunnel_reconnects_total: 'counter',
  okesu_daimon_runs_started_total: 'counter',
  okesu_daimon_runs_finished_total: 'counter',
  okesu_daimon_runs_active: 'gauge',
  okesu_daimon_collector_duration_seconds: 'histogram',
  okesu_daimon_collector_failures_total: 'counter',
  okesu_daimon_findings_total: 'counter',
};

/** prom-client's defaults both processes export, those examples/monitoring uses. */
export const PROCESS_METRICS: Readonly<Record<string, MetricKind>> = {
  process_resident_memory_bytes: 'gauge',
  process_cpu_seconds_total: 'counter',
  nodejs_eventloop_lag_p99_seconds: 'gauge',
};

/**
 * Every metric name examples/monitoring's alert rules and dashboard may use, with its type: the CP's, the daimon's,
 * the process defaults, and Prometheus's own `up`. Cross-check it against a live scrape of each process.
 */
export const KNOWN_METRICS: Readonly<Record<string, MetricKind>> = { ...CP_METRICS, ...DAIMON_METRICS, ...PROCESS_METRICS, up: 'gauge' };
