import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { OkesuError } from '../errors.js';
import { workerThreadEntry, type WorkerThreadEntry } from './worker-thread-entry.js';
import type { IngestOutcome, IngestPlan } from './store/ingest-plan.js';
import type { IngestWorkerData, IngestWorkerResponse } from './ingest-thread-protocol.js';
import { beforeSqliteWrites } from './store/sql/sqlite-db.js';
import type { SqlDb } from './store/sql/sql-db.js';

/** The bundled thread's file name: built by scripts/build.mjs beside dist/okesu.js, unpacked beside it by the SEA. */
export const INGEST_WORKER_BUNDLE = 'okesu-ingest-worker.mjs';

/** Told how a posted batch went: its outcome, or the error that rolled it back. */
export type IngestWriteDone = (err: Error | undefined, outcome: IngestOutcome | undefined) => void;

/** The SQL step of ingest (ingest-write.ts) on a thread of its own, over a second connection to the same SQLite file. */
export interface IngestThread {
  /** Posts a planned batch; `done` is called on the main thread after its commit (or its rollback). */
  write(plan: IngestPlan, now: number, done: IngestWriteDone): void;
  /** Blocks until every posted batch is answered, calling their `done` (shutdown, flush). */
  drainSync(timeoutMs?: number): void;
  /** Batches posted and not answered yet. */
  inFlight(): number;
  /** Stops the thread (after `drainSync`). */
  close(): Promise<void>;
}

/** From source (vitest, tsx) the thread is ingest-worker.ts loaded through tsx; from the bundle, its own bundle file. */
const workerEntry = (): WorkerThreadEntry => workerThreadEntry({
  here: import.meta.url, source: './ingest-worker.ts', bundle: INGEST_WORKER_BUNDLE, what: 'the ingest thread',
  onLoadFailure: '  workerData.port.postMessage({ id: -1, ok: false, error: { message: `the ingest thread could not start: ${message}`, code: undefined } });',
});

/** An error as the thread reported it, with its SQLite code, so `isStoreFailure` judges it as on the main thread. */
const threadError = (error: { message: string; code: string | undefined }): Error =>
  error.code ? Object.assign(new Error(error.message), { code: error.code }) : new Error(error.message);

/**
 * Starts the ingest thread on the SQLite database at `path`. One thread, batches answered in the order posted. A
 * thread that dies (it should not) fails what it had in flight as a store failure, so the queue keeps the records and
 * retries; the next write starts a new thread.
 */
export function createIngestThread(path: string): IngestThread {
  interface Link {
    worker: Worker;
    port: MessagePort;
    signal: Int32Array;
  }
  let link: Link | undefined;
  let nextId = 1;
  const pending = new Map<number, IngestWriteDone>();

  const settle = (res: IngestWorkerResponse): void => {
    // id -1: the thread could not start or open the database — whatever waits gets the failure.
    const ids = res.id === -1 ? [...pending.keys()] : [res.id];
    for (const id of ids) {
      const done = pending.get(id);
      if (!done) continue;
      pending.delete(id);
      if (res.ok) done(undefined, res.outcome);
      else done(threadError(res.error), undefined);
    }
  };
  const lost = (l: Link, why: string): void => {
    if (link !== l) return;
    link = undefined;
    l.port.close();
    const err = new OkesuError('OKS_ERR_STORE_UNAVAILABLE', `the ingest thread ${why}`);
    for (const [id, done] of [...pending]) {
      pending.delete(id);
      done(err, undefined);
    }
  };
  const start = (): Link => {
    const signal = new SharedArrayBuffer(4);
    const { port1, port2 } = new MessageChannel();
    const data: IngestWorkerData = { path, signal, port: port2 };
    const entry = workerEntry();
    const options = { workerData: data, transferList: [port2] };
    const worker = entry.kind === 'file' ? new Worker(entry.url, options) : new Worker(entry.code, { ...options, eval: true });
    worker.unref();
    const l: Link = { worker, port: port1, signal: new Int32Array(signal) };
    port1.on('message', settle);
    port1.unref();
    worker.on('error', (err) => lost(l, `failed: ${err.message}`));
    worker.on('exit', (code) => lost(l, `exited (code ${code})`));
    return l;
  };

  // Started at once, not on the first write: a thread that cannot load shows at start-up (a missing file throws here).
  link = start();
  return {
    write(plan, now, done) {
      link ??= start();
      const id = nextId++;
      pending.set(id, done);
      link.port.postMessage({ id, plan, now });
    },
    drainSync(timeoutMs = 60_000) {
      const deadline = performance.now() + timeoutMs;
      while (pending.size > 0 && link) {
        // Read the counter before looking for the answer: an answer posted in between changes it, so the wait returns.
        const seen = Atomics.load(link.signal, 0);
        const msg = receiveMessageOnPort(link.port) as { message: IngestWorkerResponse } | undefined;
        if (msg) {
          settle(msg.message);
          continue;
        }
        const left = deadline - performance.now();
        if (left <= 0 || Atomics.wait(link.signal, 0, seen, Math.min(left, 100)) === 'timed-out') {
          if (performance.now() >= deadline) {
            const l = link;
            void l.worker.terminate();
            lost(l, `did not answer in ${Math.round(timeoutMs / 1000)} s`);
          }
        }
      }
    },
    inFlight: () => pending.size,
    async close() {
      const l = link;
      link = undefined;
      if (!l) return;
      l.port.close();
      await l.worker.terminate();
    },
  };
}

/**
 * The ingest thread for a store, when it can have one: a SQLite file (not Postgres, whose driver has a thread of its
 * own, nor an in-memory database). `OKESU_INGEST_THREAD=0` keeps every commit on the main thread (measurements).
 */
export function ingestThreadFor(store: { kind: 'sqlite' | 'postgres'; db: unknown }, env: NodeJS.ProcessEnv = process.env): IngestThread | undefined {
  if (store.kind !== 'sqlite' || env['OKESU_INGEST_THREAD'] === '0') return undefined;
  const db = store.db as { name?: unknown; memory?: unknown };
  if (db.memory === true || typeof db.name !== 'string' || db.name === '' || db.name === ':memory:') return undefined;
  const thread = createIngestThread(db.name);
  // The main connection's writes come after the commit in flight, published (see beforeSqliteWrites).
  beforeSqliteWrites(store.db as SqlDb, () => thread.drainSync());
  return thread;
}
