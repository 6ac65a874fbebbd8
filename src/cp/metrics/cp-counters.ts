import type { RunView } from '../../protocol/api.js';
import { RUN_END_STATUSES, type RunEndStatus } from '../../protocol/event.js';
import { SEVERITIES, type Severity } from '../../protocol/finding.js';
import type { IngestResult } from '../store/ingest.js';
import { createPlainHistogram, type PlainHistogram } from '../../metrics/plain-histogram.js';
import { COMMIT_DURATION_BUCKETS, RUN_DURATION_BUCKETS } from './histogram-buckets.js';

/** How a dispatch went: handed to a route (`sent`), not handed to any (`failed`), or refused by its host (`refused`). */
export type DispatchResult = 'sent' | 'failed' | 'refused';

/**
 * The CP's event counters, as plain numbers: the parts that see the events feed them through small callbacks in their
 * deps (an increment, no allocation, no prom-client); the registry reads them at scrape time. State the parts keep
 * anyway (queue depth, tunnels, sessions, failure counts) is not copied here: the registry asks the parts for it.
 */
export interface CpCounters {
  readonly dispatches: Readonly<Record<DispatchResult, number>>;
  /** Runs whose host reported their start (`run_start`: dispatched runs and the daimon's own ticks). */
  readonly runsStarted: number;
  readonly runsFinished: Readonly<Record<RunEndStatus, number>>;
  /** Per end status: from the run's start on its host (its creation, when it never started) to its end. */
  readonly runDuration: Readonly<Record<RunEndStatus, PlainHistogram>>;
  /** Transcript events stored (duplicates and refused records not counted). */
  readonly eventsIngested: number;
  /** Valid findings stored, by severity in lower case. */
  readonly findingsIngested: Readonly<Record<Lowercase<Severity>, number>>;
  readonly commitDuration: PlainHistogram;
  /** Counts `n` dispatches that ended as `result`. */
  dispatched(result: DispatchResult, n?: number): void;
  /** Counts what one host's share of an ingest commit stored (called once per commit and host). */
  ingested(result: IngestResult): void;
  /** A run changed at this replica (an ingest commit, the dispatcher); counts it when it ended. */
  runChanged(run: RunView): void;
  /** One ingest group commit took `seconds`. */
  commitTimed(seconds: number): void;
}

const TERMINAL: ReadonlySet<string> = new Set(RUN_END_STATUSES);
const zeroBy = <K extends string>(keys: readonly K[]): Record<K, number> => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
const lowerSeverities = SEVERITIES.map((s) => s.toLowerCase() as Lowercase<Severity>);
// Indexed by the stored upper-case severity: the per-finding cost is one lookup and one increment.
const LOWER: Readonly<Record<Severity, Lowercase<Severity>>> = Object.fromEntries(SEVERITIES.map((s) => [s, s.toLowerCase()])) as Record<Severity, Lowercase<Severity>>;

/** Fresh counters, all zero. */
export function createCpCounters(): CpCounters {
  const dispatches = zeroBy<DispatchResult>(['sent', 'failed', 'refused']);
  const runsFinished = zeroBy(RUN_END_STATUSES);
  const runDuration = Object.fromEntries(RUN_END_STATUSES.map((s) => [s, createPlainHistogram(RUN_DURATION_BUCKETS)])) as Record<RunEndStatus, PlainHistogram>;
  const findingsIngested = zeroBy(lowerSeverities);
  const counters = {
    dispatches,
    runsStarted: 0,
    runsFinished,
    runDuration,
    eventsIngested: 0,
    findingsIngested,
    commitDuration: createPlainHistogram(COMMIT_DURATION_BUCKETS),
    dispatched(result: DispatchResult, n = 1): void {
      dispatches[result] += n;
    },
    ingested(result: IngestResult): void {
      counters.eventsIngested += result.stored;
      counters.runsStarted += result.started;
      for (const f of result.findings) findingsIngested[LOWER[f.finding.severity]]++;
    },
    runChanged(run: RunView): void {
      if (!TERMINAL.has(run.status)) return;
      const status = run.status as RunEndStatus;
      runsFinished[status]++;
      if (run.ended_at !== null) runDuration[status].observe(Math.max(0, run.ended_at - (run.started_at ?? run.created_at)) / 1000);
    },
    commitTimed(seconds: number): void {
      counters.commitDuration.observe(seconds);
    },
  };
  return counters;
}
