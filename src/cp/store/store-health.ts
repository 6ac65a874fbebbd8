import { statSync } from 'node:fs';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';

// SQLite result codes (primary part) that mean "the store cannot be used right now", not "this statement is wrong":
// a full disk, an I/O error, a read-only file system, a lock held too long. The work is retried; the API answers 503.
const UNAVAILABLE = new Set(['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_NOMEM', 'SQLITE_PROTOCOL', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_NOLFS', 'SQLITE_PERM']);

/** The SQLite code of an error (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`…), or undefined when it is not a SQLite error. */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

// PostgreSQL SQLSTATEs (class or full code) that mean the same: the connection (08), resources (53: disk full, out of
// memory, too many connections), operator intervention (57: statement timeout, shutdown), a lock not granted in time
// (55P03), a conflict to retry (40001 serialization, 40P01 deadlock), a system error (58).
const PG_UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58']);
const PG_UNAVAILABLE = new Set(['55P03', '40001', '40P01']);

/** The PostgreSQL SQLSTATE of an error (five characters, `.code`), or undefined. */
function postgresCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when `err` says the store is unusable (disk full, I/O, read-only, replaced), as opposed to a bug or bad data. */
export function isStoreFailure(err: unknown): boolean {
  if (err instanceof OkesuError) return err.code === 'OKS_ERR_STORE_UNAVAILABLE' || err.code === 'OKS_ERR_STORE_REPLACED';
  const code = sqliteCode(err);
  if (code !== undefined) return UNAVAILABLE.has(code.split('_').slice(0, 2).join('_'));
  const pg = postgresCode(err);
  return pg !== undefined && (PG_UNAVAILABLE.has(pg) || PG_UNAVAILABLE_CLASSES.has(pg.slice(0, 2)));
}

/** Whether the CP can write its database: `replaced` is final (the file at the path is no longer the one open). */
export type StoreState = 'ok' | 'unavailable' | 'replaced';

/** Health of the CP's store: failures are reported here, logged once per outage with their code, and mapped to 503s. */
export interface StoreHealth {
  state(): StoreState;
  /**
   * Compares the database path's device and inode with the file opened (one stat). A removed or replaced file turns
   * the connection read-only at once (no write lands in a deleted file) and is logged at fatal level.
   */
  check(): void;
  /** `check()`, then throws OKS_ERR_STORE_REPLACED if the file was replaced; call before a write that acknowledges. */
  assertWritable(): void;
  /** Records a failed store operation; returns the catalogue error to answer with, or undefined when `err` is no store failure. */
  failed(err: unknown, where: string): OkesuError | undefined;
  /** Records a successful write: ends an outage (logged with its length). */
  succeeded(where: string): void;
  /** How many store failures `where` has reported since the CP started (diagnostics, tests). */
  failures(where: string): number;
  /** Every `where` that reported a store failure since the CP started, with its count (`/metrics`). */
  failureCounts(): ReadonlyMap<string, number>;
}

/** What the file checks need of the SQLite connection. */
interface PragmaDb {
  pragma(source: string): unknown;
}

/**
 * Health of a PostgreSQL store: failures reported, logged once per outage and mapped to 503s as on SQLite; there is
 * no file to be replaced (`check` does nothing, the state is never `replaced`).
 */
export function createServerStoreHealth(where: string, deps: { log: Logger; now?: () => number }): StoreHealth {
  return createHealth(where, undefined, deps);
}

/** Watches the SQLite store at `path` opened as `db`. */
export function createStoreHealth(db: PragmaDb, path: string, deps: { log: Logger; now?: () => number }): StoreHealth {
  return createHealth(path, { db, path }, deps);
}

function createHealth(path: string, file: { db: PragmaDb; path: string } | undefined, deps: { log: Logger; now?: () => number }): StoreHealth {
  const now = deps.now ?? Date.now;
  const opened = file && statSync(file.path);
  let state: StoreState = 'ok';
  let outageSince = 0;
  const counts = new Map<string, number>();

  const replaced = (how: string): void => {
    state = 'replaced';
    // query_only makes every later write on this connection fail (SQLITE_READONLY) while reads still work.
    file?.db.pragma('query_only = ON');
    deps.log.fatal({ code: 'OKS_ERR_STORE_REPLACED', path, how }, `the CP database ${path} was ${how} while the CP ran: writes are refused until the CP is restarted (restore it with okesu cp restore if it was lost)`);
  };
  const check = (): void => {
    if (state === 'replaced' || opened === undefined) return;
    let st;
    try {
      st = statSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') replaced('removed');
      return; // another stat failure (EIO, EACCES on a parent) says nothing about the file itself
    }
    if (st.ino !== opened.ino || st.dev !== opened.dev) replaced('replaced by another file');
  };

  return {
    state: () => state,
    check,
    assertWritable() {
      check();
      if (state === 'replaced') throw new OkesuError('OKS_ERR_STORE_REPLACED', path);
    },
    failed(err, where) {
      if (!isStoreFailure(err)) return undefined;
      counts.set(where, (counts.get(where) ?? 0) + 1);
      if (err instanceof OkesuError) return err;
      const code = sqliteCode(err) ?? postgresCode(err) ?? 'unknown';
      if (state === 'replaced') return new OkesuError('OKS_ERR_STORE_REPLACED', path);
      if (state === 'ok') {
        state = 'unavailable';
        outageSince = now();
        deps.log.error({ code, where, path, err: (err as Error).message }, `the CP cannot write its store (${code}); work is kept and retried`);
      } else {
        deps.log.debug({ code, where }, 'store still unavailable');
      }
      return new OkesuError('OKS_ERR_STORE_UNAVAILABLE', code);
    },
    failures: (where) => counts.get(where) ?? 0,
    failureCounts: () => counts,
    succeeded(where) {
      if (state !== 'unavailable') return;
      state = 'ok';
      deps.log.warn({ where, outage_ms: now() - outageSince }, 'the CP can write its store again');
    },
  };
}

/** Exponential backoff for work retried after a store failure. */
export interface Backoff {
  /** The wait before the next attempt; each call doubles the one after, up to the maximum. */
  next(): number;
  /** Back to the minimum, after a success. */
  reset(): void;
}

/** A backoff from `minMs`, doubling up to `maxMs`. */
export function createBackoff(minMs = 100, maxMs = 10_000): Backoff {
  let delay = minMs;
  return {
    next() {
      const d = delay;
      delay = Math.min(maxMs, delay * 2);
      return d;
    },
    reset() {
      delay = minMs;
    },
  };
}
