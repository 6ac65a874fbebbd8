/**
 * The one SQL connection interface every store repository is written against. Two implementations:
 * - SQLite (better-sqlite3, embedded, the default): `sqliteDb(path)` — a better-sqlite3 Database satisfies this as is;
 * - PostgreSQL (`cp serve --store postgres://…`): `openPostgresDb(url)` — the `pg` driver runs on a worker thread and
 *   each call waits for its answer (Atomics.wait), so the repositories stay synchronous, exactly as on SQLite.
 *
 * Why synchronous on Postgres too: the CP's logic is written around transactions that are plain synchronous functions
 * (nothing else runs on the event loop inside one — that is what keeps exactly-once ingest and the feed's cursor order
 * simple). A Postgres round trip on loopback is ~0.1–0.3 ms, the same order as a SQLite statement with its fsync.
 *
 * SQL is written once, in the common dialect both accept:
 * - positional `?` or named `@name` parameters (named: one object argument), translated to `$n` for Postgres;
 * - `INSERT … ON CONFLICT (…) DO NOTHING | DO UPDATE SET x = excluded.x` (never `INSERT OR IGNORE/REPLACE`);
 * - `INSERT … RETURNING id` with `.get()` where the new key is needed (never `lastInsertRowid`);
 * - `IS ?` / `IS @x` null-safe comparison is translated to `IS NOT DISTINCT FROM`;
 * - integers are JavaScript numbers on both (Postgres BIGINT is parsed as a number; ms timestamps fit in 2^53);
 * - booleans are stored as 0/1 integers; JSON as TEXT.
 * Where the dialects truly differ, a repository asks `db.dialect`.
 */

/** A value that can be bound to a parameter or read from a column. */
export type SqlValue = string | number | bigint | null | Buffer;

/** What `run` reports. */
export interface SqlRunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

/** A prepared statement. `P` is the parameter tuple (one object for named parameters), `R` a result row. */
export interface SqlStatement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): SqlRunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** One connection to the CP's database. */
export interface SqlDb {
  readonly dialect: 'sqlite' | 'postgres';
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): SqlStatement<P, R>;
  /** Runs one or more statements with no parameters and no results (DDL). */
  exec(sql: string): void;
  /**
   * Wraps `fn` so that calling the result runs it in one transaction (nested calls join the outer one), like
   * better-sqlite3. On Postgres a write transaction also takes the cluster-wide writer lock (an advisory lock), so
   * transactions that append to the feed commit in cursor order across replicas — one writer at a time, as on SQLite.
   */
  transaction<T>(fn: () => T): () => T;
  readonly inTransaction: boolean;
  close(): void;
}
