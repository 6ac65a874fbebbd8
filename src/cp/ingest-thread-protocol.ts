import type { MessagePort } from 'node:worker_threads';
import type { IngestOutcome, IngestPlan } from './store/ingest-plan.js';

/** What the main thread passes when it starts the ingest thread. */
export interface IngestWorkerData {
  /** The CP's SQLite database file. */
  path: string;
  /** Int32 counter, incremented after each answer is posted (for a caller that waits synchronously). */
  signal: SharedArrayBuffer;
  port: MessagePort;
}

/** One batch to write. */
export interface IngestWorkerRequest {
  id: number;
  plan: IngestPlan;
  now: number;
}

/** The thread's answer; a failure carries the SQLite code (`SQLITE_FULL`…) so the caller can tell a store failure. */
export type IngestWorkerResponse =
  | { id: number; ok: true; outcome: IngestOutcome }
  | { id: number; ok: false; error: { message: string; code: string | undefined } };
