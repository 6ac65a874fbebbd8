import type { HostState } from '../../protocol/api.js';
import type { AuthFailureSnapshot } from '../http/auth-failures.js';
import type { MetricCollector, MetricCollectors } from './collector.js';
import { createCpCounters, type CpCounters } from './cp-counters.js';

/** What the registry reads at scrape time: the counters, and the state the CP's parts keep anyway. */
export interface CpMetricSources {
  version: string;
  /** Hosts by liveness state, as this replica judges them (on a cluster the leader's view is the fleet's). */
  hostStates(): Readonly<Record<HostState, number>>;
  /** Heartbeats heard by this replica since it started (tunnel frames and bucket heartbeats). */
  heartbeats(): number;
  tunnelsOpen(): number;
  /** Runs dispatched or running, fleet-wide (a count in the store). */
  runsActive(): number;
  ingestQueueDepth(): number;
  streamClients(): number;
  operatorConnections(): number;
  authFailures(): AuthFailureSnapshot;
  /** Store failures by the operation that met them (`ingest`, `api`, `heartbeat flush`…). */
  storeErrors(): ReadonlyMap<string, number>;
  /** The bucket scanner's passes and lag, while this replica runs one (jobs mode, on the leader). */
  bucketScans(): BucketScanReading | undefined;
  isLeader(): boolean;
}

/** What `/metrics` reads of the bucket scanner. */
export interface BucketScanReading {
  ok: number;
  failed: number;
  /** Seconds since the start of the last complete pass (or since the scanner started, before its first). */
  lagSeconds: number;
}

/** The scrape's answer. */
export interface MetricsText {
  contentType: string;
  text: string;
}

/**
 * One CP's metrics: the plain counters the parts feed from the start, the collectors other parts add, and a
 * prom-client registry of its own (never the global one: several CPs may run in one process) built on the first
 * scrape — prom-client is loaded then, not before.
 */
export interface CpMetrics extends MetricCollectors {
  readonly counters: CpCounters;
  /** Gives the registry what to read; call once the CP's parts exist, before serving `/metrics`. */
  bind(sources: CpMetricSources): void;
  /** Renders every metric in the Prometheus text format. */
  render(): Promise<MetricsText>;
}

/** Creates the metrics of one CP. */
export function createCpMetrics(): CpMetrics {
  const counters = createCpCounters();
  const collectors: MetricCollector[] = [];
  let sources: CpMetricSources | undefined;
  let registry: Promise<{ render(): Promise<MetricsText> }> | undefined;

  return {
    counters,
    addCollector(collector) {
      if (collectors.some((c) => c.name === collector.name)) throw new Error(`metric ${collector.name} is already collected`);
      collectors.push(collector);
    },
    bind(s) {
      sources = s;
      registry = undefined; // a CP started again reads its new parts
    },
    async render() {
      const bound = sources;
      if (!bound) throw new Error('metrics read before the CP started');
      registry ??= import('./cp-registry.js').then((m) => m.createCpRegistry(bound, counters, collectors));
      return (await registry).render();
    },
  };
}

/** The bucket scanner's stats as `/metrics` reads them: absent while it does not run here. */
export function bucketScanReading(
  stats: { passes: number; failedPasses: number; lastCompletePassStartedAt: number | null; runningSince: number | null } | undefined,
  now: number,
): BucketScanReading | undefined {
  if (!stats || stats.runningSince === null) return undefined;
  // Before its first complete pass, the scanner is as far behind as it has been running.
  return { ok: stats.passes, failed: stats.failedPasses, lagSeconds: Math.max(0, now - (stats.lastCompletePassStartedAt ?? stats.runningSince)) / 1000 };
}
