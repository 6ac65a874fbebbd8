import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { OkesuError } from '../../../errors.js';
import { toPostgresSql, type PostgresSql } from './postgres-dialect.js';
import type { PostgresFailure, PostgresRequest, PostgresResponse, PostgresWorkerData } from './postgres-worker.js';
import { pgWorkerEntry } from './postgres-worker-entry.js';
import type { SqlDb, SqlRunResult, SqlStatement } from './sql-db.js';

/**
 * The cluster-wide writer lock every transaction takes after BEGIN (`pg_advisory_xact_lock`): one writer at a time
 * across replicas, so feed cursors commit in order. "okesu_wr" in ASCII, as a signed 64-bit key.
 */
export const OKESU_WRITER_LOCK = 8028622307282876274n;

/** Options of `openPostgresDb`; the defaults suit the CP. */
export interface PostgresDbOptions {
  /** Per session, like SQLite's busy_timeout: a statement running longer is cancelled (SQLSTATE 57014). Default 5 s. */
  statementTimeoutMs?: number;
  /** Per session: a lock (the writer lock too) not granted in time fails (SQLSTATE 55P03). Default 5 s. */
  lockTimeoutMs?: number;
  /** A session left inside a transaction this long (a frozen replica holding the writer lock) is ended. Default 60 s. */
  idleInTransactionTimeoutMs?: number;
  /** Bound on opening the connection. Default 10 s. */
  connectTimeoutMs?: number;
  /** Bound on any one call: past it the thread is deemed dead and replaced. Default 30 s. */
  callTimeoutMs?: number;
  /** `application_name` of the session (pg_stat_activity). Default `okesu-cp`. */
  applicationName?: string;
}

/** A PostgreSQL connection behind the synchronous SqlDb interface. */
export interface PostgresDb extends SqlDb {
  readonly dialect: 'postgres';
  /** The URL without its password, for messages and logs. */
  readonly displayUrl: string;
}

/** `url` without its password (in the user part or as a `password=` parameter), for messages and logs. */
export function redactPostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.searchParams.delete('password');
    return u.toString();
  } catch {
    return '(an unparsable PostgreSQL URL)';
  }
}

/** A SQL error as the server reported it: its message, and its SQLSTATE as `code` (`23505`, `57014`…). */
export class PostgresError extends Error {
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly constraint: string | undefined;

  constructor(f: PostgresFailure) {
    super(f.message);
    this.name = 'PostgresError';
    this.code = f.code;
    this.detail = f.detail;
    this.constraint = f.constraint;
  }
}

/** The thread running `pg` and the channel to it. */
interface Link {
  worker: Worker;
  port: MessagePort;
  signal: Int32Array;
}

/**
 * Opens a connection to `url` (`postgres://user:password@host:port/db`) on a worker thread and returns it as an
 * SqlDb whose calls block until PostgreSQL answers. Throws OKS_ERR_STORE_UNAVAILABLE naming the URL (without its
 * password) when it cannot connect; later, a lost connection fails that call the same way and the next call outside
 * a transaction reconnects. One difference from SQLite remains: a statement that fails inside a transaction aborts
 * the whole transaction (SQLSTATE 25P02 after it) unless it ran in a nested `transaction()` (a savepoint).
 */
export function openPostgresDb(url: string, opts: PostgresDbOptions = {}): PostgresDb {
  const displayUrl = redactPostgresUrl(url);
  const callTimeoutMs = opts.callTimeoutMs ?? 30_000;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  let link: Link | undefined;
  let nextId = 1;
  let depth = 0; // transaction nesting: 0 outside, 1 in the outer one, more in savepoints
  let closed = false;

  const unavailable = (what: string): OkesuError => new OkesuError('OKS_ERR_STORE_UNAVAILABLE', `PostgreSQL at ${displayUrl}: ${what}`);

  const start = (): Link => {
    const signal = new SharedArrayBuffer(4);
    const { port1, port2 } = new MessageChannel();
    const data: PostgresWorkerData = {
      url,
      signal,
      port: port2,
      statementTimeoutMs: opts.statementTimeoutMs ?? 5000,
      lockTimeoutMs: opts.lockTimeoutMs ?? 5000,
      idleInTransactionTimeoutMs: opts.idleInTransactionTimeoutMs ?? 60_000,
      connectTimeoutMs,
      applicationName: opts.applicationName ?? 'okesu-cp',
    };
    const entry = pgWorkerEntry();
    const options = { workerData: data, transferList: [port2] };
    const worker = entry.kind === 'file' ? new Worker(entry.url, options) : new Worker(entry.code, { ...options, eval: true });
    // The thread never keeps the process alive: every call waits for its answer synchronously anyway.
    worker.unref();
    const started: Link = { worker, port: port1, signal: new Int32Array(signal) };
    worker.on('exit', () => {
      if (link === started) link = undefined;
    });
    worker.on('error', () => {
      if (link === started) link = undefined;
    });
    return started;
  };

  const drop = (l: Link): void => {
    if (link === l) link = undefined;
    l.port.close();
    void l.worker.terminate();
  };

  /** Posts `req` and blocks until its answer (or the time bound). */
  const call = (l: Link, req: PostgresRequest, timeoutMs: number): PostgresResponse => {
    l.port.postMessage(req);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // Read the counter before looking for the answer: an answer posted in between changes it, so the wait returns.
      const seen = Atomics.load(l.signal, 0);
      const msg = receiveMessageOnPort(l.port) as { message: PostgresResponse } | undefined;
      if (msg) {
        if (msg.message.id === req.id || msg.message.id === -1) return msg.message; // -1: the thread could not start
        continue; // the late answer of a call that timed out
      }
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(l.signal, 0, seen, left) === 'timed-out') {
        drop(l);
        throw unavailable(`no answer from the database thread in ${Math.round(timeoutMs / 1000)} s (${req.op}); it was stopped and the next call reconnects`);
      }
    }
  };

  const connect = (): Link => {
    const l = start();
    const res = call(l, { id: nextId++, op: 'connect' }, connectTimeoutMs + 5000);
    if (!res.ok) {
      drop(l);
      const code = res.error.code ? ` (${res.error.code})` : '';
      throw Object.assign(unavailable(`cannot connect: ${res.error.message}${code}`), { cause: new PostgresError(res.error) });
    }
    link = l;
    return l;
  };

  const request = (req: { op: 'query'; text: string; values: unknown[] } | { op: 'exec'; text: string }, inTransaction: boolean): PostgresResponse & { ok: true } => {
    if (closed) throw new Error(`the PostgreSQL connection to ${displayUrl} is closed`);
    if (!link && inTransaction) throw unavailable('the connection was lost inside this transaction');
    const l = link ?? connect();
    const res = call(l, { ...req, id: nextId++, inTransaction }, callTimeoutMs);
    if (res.ok) return res;
    if (res.error.kind === 'connection') {
      const code = res.error.code ? ` (${res.error.code})` : '';
      throw Object.assign(unavailable(`${res.error.message}${code}`), { cause: new PostgresError(res.error) });
    }
    throw new PostgresError(res.error);
  };

  const bind = (sql: PostgresSql, source: string, params: unknown[]): unknown[] => {
    if (sql.names.length > 0) {
      const named = params[0];
      if (params.length !== 1 || typeof named !== 'object' || named === null || Buffer.isBuffer(named) || Array.isArray(named)) {
        throw new TypeError(`named parameters take one object argument: ${source}`);
      }
      const values = named as Record<string, unknown>;
      return sql.names.map((name) => {
        if (!(name in values)) throw new RangeError(`missing named parameter "${name}": ${source}`);
        return values[name];
      });
    }
    // As better-sqlite3: arrays spread into positional values.
    const values = params.flatMap((p) => (Array.isArray(p) ? (p as unknown[]) : [p]));
    if (values.length !== sql.count) throw new RangeError(`${sql.count} parameter value(s) expected, ${values.length} given: ${source}`);
    return values;
  };

  const query = (source: string, params: unknown[]): PostgresResponse & { ok: true } => {
    const sql = toPostgresSql(source);
    return request({ op: 'query', text: sql.text, values: bind(sql, source, params) }, depth > 0);
  };

  const run = (text: string, inTransaction: boolean): void => {
    request({ op: 'exec', text }, inTransaction);
  };

  const rollbackQuietly = (sql: string): void => {
    // Sent as part of the transaction: a lost connection took the transaction with it, so nothing is reopened for this.
    if (!link) return;
    try {
      run(sql, true);
    } catch {
      // the caller's error is the one to report
    }
  };

  const transaction = <T>(fn: () => T): (() => T) => () => {
    const level = depth;
    try {
      if (level === 0) run(`BEGIN; SELECT pg_advisory_xact_lock(${OKESU_WRITER_LOCK})`, false);
      else run(`SAVEPOINT okesu_${level}`, true);
    } catch (err) {
      // BEGIN ran but the lock was not granted (lock_timeout): end the aborted transaction it leaves open.
      if (level === 0) rollbackQuietly('ROLLBACK');
      throw err;
    }
    depth++;
    let result: T;
    try {
      result = fn();
      if (result && typeof (result as { then?: unknown }).then === 'function') throw new TypeError('a transaction function cannot return a promise');
    } catch (err) {
      depth = level;
      if (level === 0) rollbackQuietly('ROLLBACK');
      else rollbackQuietly(`ROLLBACK TO SAVEPOINT okesu_${level}; RELEASE SAVEPOINT okesu_${level}`);
      throw err;
    }
    try {
      if (level === 0) run('COMMIT', true);
      else run(`RELEASE SAVEPOINT okesu_${level}`, true);
    } finally {
      depth = level;
    }
    return result;
  };

  const rows = (res: PostgresResponse & { ok: true }): Record<string, unknown>[] => {
    // Buffers come back from the thread as Uint8Arrays (structured clone); callers expect Buffers, as from SQLite.
    for (const row of res.rows) {
      for (const key in row) {
        const v = row[key];
        if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[key] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      }
    }
    return res.rows;
  };

  connect();
  return {
    dialect: 'postgres',
    displayUrl,
    prepare<P extends unknown[] = unknown[], R = unknown>(source: string): SqlStatement<P, R> {
      toPostgresSql(source); // a statement mixing ? and @name fails here, as better-sqlite3 fails at prepare
      return {
        run: (...params: P): SqlRunResult => ({ changes: query(source, params).rowCount }),
        get: (...params: P): R | undefined => rows(query(source, params))[0] as R | undefined,
        all: (...params: P): R[] => rows(query(source, params)) as R[],
      };
    },
    exec(sql: string): void {
      run(sql, depth > 0);
    },
    transaction,
    get inTransaction() {
      return depth > 0;
    },
    close(): void {
      if (closed) return;
      closed = true;
      const l = link;
      if (!l) return;
      try {
        call(l, { id: nextId++, op: 'end' }, 5000);
      } catch {
        // a dead thread has nothing left to end
      }
      drop(l);
    },
  };
}
