import type Database from 'better-sqlite3';
import { chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6, SCHEMA_V7, SCHEMA_V8 } from './schema.js';

/** A better-sqlite3 connection. */
export type Db = Database.Database;

const MIGRATIONS: readonly string[] = [SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6, SCHEMA_V7, SCHEMA_V8];

/** The schema version this build writes (`PRAGMA user_version`); older databases are migrated on open. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The file name of the CP database inside its state directory. */
export const DATABASE_FILE = 'cp.db';

/** Opens (creating if needed) the CP database at `path` in WAL mode and brings its schema up to date. */
export function openDatabase(path: string): Db {
  // Loaded on first use, not at import: the same bundle runs the daimon, which must start on hosts where this
  // native module is not installed (it belongs to the CP only).
  const SqliteDatabase = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  const db = new SqliteDatabase(path);
  chmodSync(path, 0o600);
  db.pragma('journal_mode = WAL');
  // FULL: an acknowledged event has been fsync'd, so even a machine crash loses nothing acknowledged.
  db.pragma('synchronous = FULL');
  // Checkpoint every ~40 MB of WAL instead of 4 MB: under ingest, pages written by many commits (fingerprint
  // groups land on random pages) are copied to the database once per checkpoint, and checkpoints (each with an
  // fsync of the database) block the event loop ten times less often. Durability is the WAL's fsync per commit.
  db.pragma('wal_autocheckpoint = 10000');
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
