/**
 * The ingest writer's thread (see ingest-thread.ts): its own connection to the CP's SQLite file, on which it writes
 * each planned batch in one transaction and answers with the outcome — the SQL of an ingest and nothing else, so the
 * main thread's TLS, WebSocket and validation work runs on the other core meanwhile.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { openDatabase } from './store/database.js';
import { sqliteDb } from './store/sql/sqlite-db.js';
import { createRunsRepo } from './store/runs.js';
import { createFeedRepo } from './store/feed.js';
import { createIngestWriter } from './store/ingest-write.js';
import type { IngestWorkerData, IngestWorkerRequest, IngestWorkerResponse } from './ingest-thread-protocol.js';

const data = workerData as IngestWorkerData;
const signal = new Int32Array(data.signal);
const port: MessagePort = data.port;

const answer = (res: IngestWorkerResponse): void => {
  port.postMessage(res);
  // Wakes a main thread that waits for this answer synchronously (flush at shutdown).
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
};

let write: ((req: IngestWorkerRequest) => IngestWorkerResponse) | undefined;
let openError = '';
try {
  const raw = openDatabase(data.path);
  const db = sqliteDb(raw);
  const writer = createIngestWriter(db, createRunsRepo(db), createFeedRepo(db));
  write = (req) => {
    // IMMEDIATE (sqliteDb's transactions): the write lock from the start, waiting for the main connection's.
    const outcome = db.transaction(() => writer.write(req.plan, req.now))();
    return { id: req.id, ok: true, outcome };
  };
} catch (err) {
  const e = err as { message?: string; code?: unknown };
  openError = `the ingest thread could not open ${data.path}: ${e.message}`;
  answer({ id: -1, ok: false, error: { message: openError, code: typeof e.code === 'string' ? e.code : undefined } });
}

port.on('message', (req: IngestWorkerRequest) => {
  if (!write) {
    answer({ id: req.id, ok: false, error: { message: openError, code: 'SQLITE_CANTOPEN' } });
    return;
  }
  try {
    answer(write(req));
  } catch (err) {
    const e = err as { message?: string; code?: unknown };
    answer({ id: req.id, ok: false, error: { message: String(e.message), code: typeof e.code === 'string' ? e.code : undefined } });
  }
});
