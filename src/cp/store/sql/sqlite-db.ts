import type Database from 'better-sqlite3';
import type { SqlDb, SqlRunResult } from './sql-db.js';

/**
 * A better-sqlite3 connection as an SqlDb. better-sqlite3 already has this shape (prepare/run/get/all, exec,
 * transaction, inTransaction, close); only `dialect` is added, on the same object, so code that still holds the
 * Database sees the same connection.
 */
export function sqliteDb(db: Database.Database): SqlDb {
  if (!('dialect' in db)) {
    Object.defineProperty(db, 'dialect', { value: 'sqlite', enumerable: false });
    // Transactions begin IMMEDIATE (the write lock first): the CP's ingest thread writes the same file over a second
    // connection, and a deferred transaction that reads before it writes fails with SQLITE_BUSY_SNAPSHOT, instead of
    // waiting (busy_timeout), when the other connection commits in between. The variants stay reachable on the result.
    const begin = db.transaction.bind(db);
    Object.defineProperty(db, 'transaction', {
      value: (fn: (...args: never[]) => unknown) => {
        const immediate = begin(fn).immediate;
        return (...args: never[]) => {
          if (!db.inTransaction) beforeWrite.get(db)?.();
          return immediate(...args);
        };
      },
      enumerable: false,
    });
  }
  // better-sqlite3's statement types are wider (bind parameters, pluck…); at run time they are what SqlDb describes.
  return db as unknown as SqlDb;
}

const beforeWrite = new WeakMap<object, () => void>();

/**
 * Runs `hook` before each outermost transaction on this connection. The CP's ingest thread waits there for its commit
 * in flight and settles it first: that commit's feed entries then reach the stream before any entry this connection
 * appends after them (a client drops a cursor lower than one it has seen), and nothing waits on SQLite's busy sleeps.
 */
export function beforeSqliteWrites(db: SqlDb, hook: () => void): void {
  beforeWrite.set(db, hook);
}

/**
 * The rowid an SQLite `INSERT` just made, from its `run` result (better-sqlite3's `lastInsertRowid`), or undefined when
 * it inserted nothing (`ON CONFLICT DO NOTHING`). SQLite only — the portable way is `RETURNING id` — for the per-row
 * ingest statements, where RETURNING cost ~1.5 µs per row (SQLite collects returned rows in a side table): ~5 µs of the
 * CP's ~40 µs per finding, for the event, finding and feed rows together.
 */
export function sqliteInsertedId(result: SqlRunResult): number | undefined {
  if (result.changes === 0) return undefined;
  return Number((result as SqlRunResult & { lastInsertRowid: number | bigint }).lastInsertRowid);
}
