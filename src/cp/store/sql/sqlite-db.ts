import type Database from 'better-sqlite3';
import type { SqlDb } from './sql-db.js';

/**
 * A better-sqlite3 connection as an SqlDb. better-sqlite3 already has this shape (prepare/run/get/all, exec,
 * transaction, inTransaction, close); only `dialect` is added, on the same object, so code that still holds the
 * Database sees the same connection.
 */
export function sqliteDb(db: Database.Database): SqlDb {
  if (!('dialect' in db)) Object.defineProperty(db, 'dialect', { value: 'sqlite', enumerable: false });
  // better-sqlite3's statement types are wider (bind parameters, pluck…); at run time they are what SqlDb describes.
  return db as unknown as SqlDb;
}
