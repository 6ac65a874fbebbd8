/*
 * The daimon's metrics as plain numbers: always on, a few additions per event, no prom-client. The parts increment
 * them; the optional exporter (`metrics-server.ts`, loaded only with `--metrics-listen`) reads them when scraped.
 */
import { RUN_END_STATUSES } from '../../src/protocol/event.js';
import type { RunEndStatus } from '../../src/protocol/event.js';
import { SEVERITIES } from '../../src/protocol/finding.js';
import type { Severity } from '../../src/protocol/finding.js';
import { createPlainHistogram, type PlainHistogram } from '../../src/metrics/plain-histogram.js';

/** Upper bounds (seconds) of the collector duration histogram's buckets; `+Inf` is implied. */
export const COLLECTOR_DURATION_BUCKETS: readonly number[] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** One collector's runs: a histogram of their durations (seconds) and its failures. */
export interface CollectorStats {
  agent: string;
  collector: string;
  durations: PlainHistogram;
  failures: number;
}

/** What the sender, tunnel, executor and collectors count, and what the spool says when asked. */
export interface DaimonCounters {
  /** Event records handed to the transport (a resend after a reconnect counts again). */
  eventsSent: number;
  /** Event records the CP acknowledged. */
  eventsAcked: number;
  /** 1 while the tunnel is welcomed; 0 otherwise (always 0 in jobs mode). */
  tunnelConnected: 0 | 1;
  /** Reconnect attempts scheduled after a tunnel closed or failed to open. */
  tunnelReconnects: number;
  runsStarted: number;
  runsActive: number;
  runsFinished: Record<RunEndStatus, number>;
  /** Findings this daimon reported (after a tick's local dedup). */
  findings: Record<Severity, number>;
  /** By `agent\0collector`: bounded by the installed agents' collectors. */
  collectors: Map<string, CollectorStats>;
  /** The spool's depth and bytes, read at scrape time (set once the spool is open). */
  spool?: { depth(): number; bytes(): number };
}

/** Fresh counters: every run status and severity at 0, so their series exist before the first event. */
export function createDaimonCounters(): DaimonCounters {
  return {
    eventsSent: 0,
    eventsAcked: 0,
    tunnelConnected: 0,
    tunnelReconnects: 0,
    runsStarted: 0,
    runsActive: 0,
    runsFinished: Object.fromEntries(RUN_END_STATUSES.map((s) => [s, 0])) as Record<RunEndStatus, number>,
    findings: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>,
    collectors: new Map(),
  };
}

/** Counts one collector's run: its duration in the histogram, and a failure when it failed (a skip is not one). */
export function recordCollector(counters: Pick<DaimonCounters, 'collectors'>, agent: string, collector: string, seconds: number, failed: boolean): void {
  const key = `${agent}\u0000${collector}`;
  let stats = counters.collectors.get(key);
  if (!stats) {
    stats = { agent, collector, durations: createPlainHistogram(COLLECTOR_DURATION_BUCKETS), failures: 0 };
    counters.collectors.set(key, stats);
  }
  stats.durations.observe(seconds);
  if (failed) stats.failures++;
}
