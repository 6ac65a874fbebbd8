import Database from 'better-sqlite3';
import { chmodSync } from 'node:fs';
import { SCHEMA_V1 } from './schema.js';

/** A better-sqlite3 connection. */
export type Db = Database.Database;

const MIGRATIONS: readonly string[] = [SCHEMA_V1];

/** Opens (creating if needed) the CP database at `path` in WAL mode and brings its schema up to date. */
export function openDatabase(path: string): Db {
  const db = new Database(path);
  chmodSync(path, 0o600);
  db.pragma('journal_mode = WAL');
  // FULL: an acknowledged event has been fsync'd, so even a machine crash loses nothing acknowledged.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
