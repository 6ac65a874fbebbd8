/**
 * The PostgreSQL connection's thread (see postgres-db.ts): one `pg.Client`, requests taken one at a time from the
 * port, each answer posted back and then signalled through the shared counter the caller waits on. A connection that
 * drops is opened again on the next request — unless that request belongs to a transaction, which died with it.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import pg from 'pg';

/** What the caller passes when it starts this thread. */
export interface PostgresWorkerData {
  url: string;
  /** Int32 counter, incremented after each answer is posted. */
  signal: SharedArrayBuffer;
  port: MessagePort;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  connectTimeoutMs: number;
  applicationName: string;
}

/** A request to the thread. `inTransaction`: part of an open transaction, so a lost connection is not reopened. */
export type PostgresRequest =
  | { id: number; op: 'connect' }
  | { id: number; op: 'query'; text: string; values: unknown[]; inTransaction: boolean }
  | { id: number; op: 'exec'; text: string; inTransaction: boolean }
  | { id: number; op: 'end' };

/** Why a request failed: `sql` is the statement's own error (with its SQLSTATE); `connection` means no usable connection. */
export interface PostgresFailure {
  kind: 'sql' | 'connection';
  message: string;
  code?: string;
  detail?: string;
  constraint?: string;
}

/** The thread's answer to one request. */
export type PostgresResponse =
  | { id: number; ok: true; rows: Record<string, unknown>[]; rowCount: number }
  | { id: number; ok: false; error: PostgresFailure };

const data = workerData as PostgresWorkerData;
const signal = new Int32Array(data.signal);

// BIGINT (counts, ids, ms timestamps) and NUMERIC (sum, avg) as JavaScript numbers, as on SQLite; every value the
// CP stores fits in 2^53. BYTEA stays pg's Buffer.
const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

let client: pg.Client | undefined;
let broken: string | undefined; // why the current client can no longer be used

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({
    connectionString: data.url,
    types,
    statement_timeout: data.statementTimeoutMs,
    lock_timeout: data.lockTimeoutMs,
    idle_in_transaction_session_timeout: data.idleInTransactionTimeoutMs,
    connectionTimeoutMillis: data.connectTimeoutMs,
    application_name: data.applicationName,
    keepAlive: true,
  });
  // Without a listener an error on an idle connection (the server restarting) would end this thread.
  c.on('error', (err) => {
    if (client === c) broken = err.message;
  });
  c.on('end', () => {
    if (client === c) broken ??= 'the connection was closed';
  });
  await c.connect();
  client = c;
  broken = undefined;
  return c;
}

async function usableClient(inTransaction: boolean): Promise<pg.Client> {
  if (client && broken === undefined) return client;
  if (inTransaction) throw Object.assign(new Error(`connection lost inside a transaction: ${broken ?? 'not connected'}`), { lost: true });
  const old = client;
  client = undefined;
  old?.end().catch(() => undefined);
  return connect();
}

function failure(err: unknown, c: pg.Client | undefined): PostgresFailure {
  const e = err as Partial<pg.DatabaseError> & { lost?: boolean };
  const message = e.message ?? String(err);
  // A statement that failed because the connection went away (rather than one the server refused) is a connection
  // failure: no SQLSTATE (a socket error), class 08 (connection exception) or 57P01-57P03 (the server shutting down,
  // the session terminated). The client is not used again; the next request outside a transaction opens another.
  const code = typeof e.code === 'string' ? e.code : undefined;
  const lost = e.lost === true || c === undefined || client !== c || broken !== undefined || code === undefined || code.startsWith('08') || /^57P0[123]$/.test(code);
  if (lost && c !== undefined && client === c) broken ??= message;
  return {
    kind: lost ? 'connection' : 'sql',
    message,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(e.detail ? { detail: e.detail } : {}),
    ...(e.constraint ? { constraint: e.constraint } : {}),
  };
}

/** Buffers arrive as Uint8Array (structured clone); pg writes only Buffers as BYTEA. */
const asPgValue = (v: unknown): unknown => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v);

async function handle(req: PostgresRequest): Promise<PostgresResponse> {
  let c: pg.Client | undefined;
  try {
    switch (req.op) {
      case 'connect':
        c = await usableClient(false);
        return { id: req.id, ok: true, rows: [], rowCount: 0 };
      case 'query': {
        c = await usableClient(req.inTransaction);
        const result = await c.query<Record<string, unknown>>({ text: req.text, values: req.values.map(asPgValue) });
        return { id: req.id, ok: true, rows: result.rows, rowCount: result.rowCount ?? 0 };
      }
      case 'exec':
        c = await usableClient(req.inTransaction);
        await c.query(req.text);
        return { id: req.id, ok: true, rows: [], rowCount: 0 };
      case 'end':
        broken = 'closed';
        await client?.end();
        return { id: req.id, ok: true, rows: [], rowCount: 0 };
    }
  } catch (err) {
    return { id: req.id, ok: false, error: failure(err, c) };
  }
}

function answer(res: PostgresResponse): void {
  data.port.postMessage(res);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

// One request at a time, in order: the caller waits for each answer anyway, and a transaction's statements must not interleave.
let queue = Promise.resolve();
data.port.on('message', (req: PostgresRequest) => {
  queue = queue.then(() => handle(req)).then(answer, (err: unknown) => answer({ id: req.id, ok: false, error: failure(err, undefined) }));
});
