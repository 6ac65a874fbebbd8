import type { SqlDb } from './sql/sql-db.js';
import type { Ingest } from './store-contract.js';
import type { RunsRepo } from './runs.js';
import type { FeedRepo } from './feed.js';
import type { EventRecord, RecordKey } from '../../protocol/tunnel.js';
import type { StoredFinding } from '../../protocol/finding.js';
import type { RunView } from '../../protocol/api.js';
import { assembleResults, planIngest } from './ingest-plan.js';
import { createIngestWriter } from './ingest-write.js';

export { opensTick, stampedBody } from './ingest-plan.js';

/** What one ingest batch changed, for the live stream and waiters; published only after commit. */
export interface IngestResult {
  /** Every record of the batch: stored now, stored before (duplicate) or refused — all are safe to acknowledge (a refused one would be refused again). */
  acked: RecordKey[];
  stored: number;
  duplicates: number;
  /** Records refused because their run belongs to another host. */
  foreign: number;
  /** Records refused because the CP never dispatched their run and they do not start a tick of this host. */
  unknown: number;
  /** Each run whose records were refused, once, and why: acknowledged all the same, so the daimon's spool drains. */
  refused: RefusedRun[];
  /** Findings that failed their schema: kept in the transcript, not as findings. */
  invalidFindings: { key: RecordKey; reason: string }[];
  findings: { cursor: number; finding: StoredFinding }[];
  runs: { cursor: number; run: RunView }[];
  touchedRuns: Set<string>;
  /** Runs this batch started (their `run_start` stored): counted apart, as a run may start and end in one batch. */
  started: number;
}

/** A run whose records an ingest refused: `unknown` (never dispatched, not a tick) or `foreign` (another host's). */
export interface RefusedRun {
  run_id: string;
  reason: 'unknown' | 'foreign';
}

/** The records of one host to ingest. */
export interface IngestItem {
  hostname: string;
  records: readonly EventRecord[];
}

/**
 * Stores tunnel/bucket event records exactly once per (run, seq), in one transaction per batch: planned (no store),
 * written (SQL only) and assembled into results (no store) — see ingest-plan.ts. The CP on SQLite may run the middle
 * step on a thread of its own instead (ingest-thread.ts); this is the same work on the caller's connection.
 */
export function createIngest(db: SqlDb, runs: RunsRepo, feed: FeedRepo): Ingest {
  const writer = createIngestWriter(db, runs, feed);
  const ingestBatch = (items: readonly IngestItem[], now: number): IngestResult[] => {
    const { plan, local } = planIngest(items);
    const outcome = db.transaction(() => writer.write(plan, now))();
    return assembleResults(items, plan, local, outcome, now);
  };

  return {
    /** Ingests the items in one transaction; throws only on a storage failure (then nothing was written and nothing is acked). */
    ingestBatch(items: readonly IngestItem[], now: number): IngestResult[] {
      return ingestBatch(items, now);
    },
    /** Ingests one host's batch atomically. */
    ingest(hostname: string, records: readonly EventRecord[], now: number): IngestResult {
      return ingestBatch([{ hostname, records }], now)[0] as IngestResult;
    },
  };
}
export type { Ingest };
