import { workerThreadEntry, type WorkerThreadEntry } from '../../worker-thread-entry.js';

/** What a PostgreSQL connection thread runs: a file, or (from source) a bootstrap evaluated as CommonJS. */
export type PgWorkerEntry = WorkerThreadEntry;

/** The bundled worker's file name: built by scripts/build.mjs beside dist/okesu.js, unpacked beside it by the SEA. */
export const PG_WORKER_BUNDLE = 'okesu-pg-worker.mjs';

/**
 * Where the connection thread's code is. From source (vitest, tsx) it is postgres-worker.ts, loaded through tsx; from
 * the bundle dist/okesu.js (and the single executable, which unpacks the same layout) it is dist/okesu-pg-worker.mjs,
 * a bundle of its own: `pg` is parsed only by a process that opens a PostgreSQL store, never by the daimon.
 */
export function pgWorkerEntry(here: string = import.meta.url): PgWorkerEntry {
  // A failure to load is answered like any request's failure (id -1: whichever request waits), not left to time out.
  return workerThreadEntry({
    here, source: './postgres-worker.ts', bundle: PG_WORKER_BUNDLE, what: 'the PostgreSQL driver',
    onLoadFailure: [
      "  workerData.port.postMessage({ id: -1, ok: false, error: { kind: 'connection', message: `the database thread could not start: ${message}` } });",
      '  const signal = new Int32Array(workerData.signal);',
      '  Atomics.add(signal, 0, 1);',
      '  Atomics.notify(signal, 0);',
    ].join('\n'),
  });
}
