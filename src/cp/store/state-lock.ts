import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { OkesuError } from '../../errors.js';
import { sqliteCode } from './store-health.js';

/** The lock file a running CP holds in its state directory. */
export const LOCK_FILE = 'cp.lock';

/** A held state-directory lock. */
export interface StateLock {
  release(): void;
}

/**
 * Takes the state directory's lock: an exclusive SQLite lock on `DIR/cp.lock`, held for as long as the connection is
 * open. The OS drops it when the process ends however it ends (no stale pid file after a crash or kill -9), and SQLite
 * honours it between connections of one process too. A running CP holds it; restore takes it to know none runs.
 * Throws OKS_ERR_STATE_IN_USE when another holder has it.
 */
export function acquireStateLock(dir: string, holder: string): StateLock {
  const SqliteDatabase = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK_FILE);
  const db = new SqliteDatabase(path, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the EXCLUSIVE lock; in locking_mode EXCLUSIVE it is kept until the connection closes.
    db.exec('CREATE TABLE IF NOT EXISTS lock (holder TEXT)');
    db.exec('BEGIN EXCLUSIVE');
    db.prepare('DELETE FROM lock').run();
    db.prepare('INSERT INTO lock (holder) VALUES (?)').run(holder);
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if (sqliteCode(err)?.startsWith('SQLITE_BUSY') || sqliteCode(err)?.startsWith('SQLITE_LOCKED')) {
      throw new OkesuError('OKS_ERR_STATE_IN_USE', `${dir} is locked (${path}) by a running control plane; stop it first`);
    }
    throw err;
  }
  return { release: () => db.close() };
}
