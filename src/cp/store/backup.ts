import type Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OkesuError } from '../../errors.js';
import { DATABASE_FILE, SCHEMA_VERSION } from './database.js';
import { acquireStateLock } from './state-lock.js';
import { sqliteCode } from './store-health.js';

// Tables every Okesu CP database has had since schema 1: a file without them is some other SQLite database.
const REQUIRED_TABLES = ['meta', 'hosts', 'tokens', 'runs', 'events', 'findings', 'feed', 'audit'];

const sqlite = (): typeof Database => createRequire(import.meta.url)('better-sqlite3') as typeof Database;

/** What a verified database file holds. */
export interface DatabaseInfo {
  schemaVersion: number;
  hosts: number;
  tokens: number;
  findings: number;
}

/**
 * Checks that `path` is an Okesu CP database this build can open (schema 1…SCHEMA_VERSION, the core tables present,
 * and with `integrity` SQLite's quick_check passes); throws OKS_ERR_STATE_INCOMPLETE saying what is wrong.
 */
export function verifyDatabase(path: string, opts: { integrity?: boolean } = {}): DatabaseInfo {
  const bad = (why: string): OkesuError => new OkesuError('OKS_ERR_STATE_INCOMPLETE', `${path} ${why}`);
  if (!existsSync(path)) throw bad('does not exist');
  let db: Database.Database;
  try {
    db = new (sqlite())(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw bad(`cannot be opened: ${(err as Error).message}`);
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    const tables = new Set(db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name));
    const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
    if (version === 0 || missing.length > 0) throw bad(`is not an Okesu CP database (schema version ${version}, missing tables: ${missing.join(', ') || 'none'})`);
    if (version > SCHEMA_VERSION) throw bad(`has schema version ${version}, newer than this okesu understands (${SCHEMA_VERSION}); use the okesu release that wrote it`);
    if (opts.integrity) {
      const check = db.pragma('quick_check', { simple: true }) as string;
      if (check !== 'ok') throw bad(`fails SQLite's integrity check: ${check}`);
    }
    const count = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { schemaVersion: version, hosts: count('hosts'), tokens: count('tokens'), findings: count('findings') };
  } catch (err) {
    if (err instanceof OkesuError) throw err;
    throw bad(sqliteCode(err) === 'SQLITE_NOTADB' ? 'is not an SQLite database' : `cannot be read: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

/** Creates `path` empty with mode 0600, so the copy written into it is never readable by others, not even briefly. */
const createPrivate = (path: string): void => closeSync(openSync(path, 'wx', 0o600));

/** Copies the database at `from` into a new private file `to` with SQLite's online backup, as one self-contained file. */
async function copyDatabase(from: string, to: string): Promise<void> {
  createPrivate(to);
  try {
    const src = new (sqlite())(from, { readonly: true, fileMustExist: true });
    try {
      await src.backup(to);
    } finally {
      src.close();
    }
    // The copy keeps the source's WAL flag; a rollback-journal file stands alone (no -wal/-shm needed to read it).
    const dst = new (sqlite())(to);
    try {
      dst.pragma('journal_mode = DELETE');
    } finally {
      dst.close();
    }
    chmodSync(to, 0o600);
  } catch (err) {
    rmSync(to, { force: true });
    throw err;
  }
}

/**
 * `okesu cp backup`: a consistent copy of the state dir's database, taken with SQLite's online backup API (a running
 * CP keeps serving), written to `out` atomically with mode 0600. The CA (ca.crt, ca.key) is not in it.
 */
export async function backupDatabase(stateDir: string, out: string): Promise<DatabaseInfo> {
  const source = join(stateDir, DATABASE_FILE);
  if (!existsSync(source)) throw new OkesuError('OKS_ERR_STATE_INCOMPLETE', `${source} does not exist: nothing to back up`);
  const tmp = join(dirname(out), `.${DATABASE_FILE}.backup-${process.pid}-${Date.now()}`);
  await copyDatabase(source, tmp);
  try {
    const info = verifyDatabase(tmp, { integrity: true });
    renameSync(tmp, out);
    return info;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** What a restore did. */
export interface RestoreResult extends DatabaseInfo {
  /** Where the database that was there before now is (kept, never deleted). */
  previous: string | undefined;
  /** False when the state dir has no CA yet: the CP refuses to start until ca.crt and ca.key are put back. */
  caPresent: boolean;
}

/**
 * `okesu cp restore`: verifies `file` (an Okesu database of a compatible schema, intact), then puts a copy in place of
 * the state dir's database atomically (0600). Refused while a CP runs on the state dir (it holds the lock). A database
 * already there is moved aside with its WAL, not deleted; the new one is migrated on the CP's next start.
 */
export async function restoreDatabase(stateDir: string, file: string): Promise<RestoreResult> {
  const info = verifyDatabase(file, { integrity: true });
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const lock = acquireStateLock(stateDir, `okesu cp restore (pid ${process.pid})`);
  try {
    const target = join(stateDir, DATABASE_FILE);
    const tmp = join(stateDir, `.${DATABASE_FILE}.restore-${process.pid}`);
    rmSync(tmp, { force: true });
    await copyDatabase(file, tmp);
    let previous: string | undefined;
    if (existsSync(target)) {
      previous = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(target, previous);
      // A WAL left behind would be replayed into the restored file: it goes with the database it belongs to.
      if (existsSync(`${target}-wal`)) renameSync(`${target}-wal`, `${previous}-wal`);
    }
    rmSync(`${target}-wal`, { force: true });
    rmSync(`${target}-shm`, { force: true });
    renameSync(tmp, target);
    const caPresent = existsSync(join(stateDir, 'ca.crt')) && existsSync(join(stateDir, 'ca.key'));
    return { ...info, previous, caPresent };
  } finally {
    lock.release();
  }
}
