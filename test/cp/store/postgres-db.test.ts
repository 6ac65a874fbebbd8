import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OkesuError } from '../../../src/errors.js';
import { OKESU_WRITER_LOCK, openPostgresDb, type PostgresDb } from '../../../src/cp/store/sql/postgres-db.js';
import { isUniqueViolation } from '../../../src/cp/store/sql/sql-db-errors.js';
import { postgresBinDir } from '../../support/postgres-server.js';
import { startPostgresServer, testPostgresUrl, type TestPostgresDatabase } from '../../support/postgres.js';

let database: TestPostgresDatabase;
let db: PostgresDb;
const opened: PostgresDb[] = [];
const open = (...args: Parameters<typeof openPostgresDb>): PostgresDb => {
  const d = openPostgresDb(...args);
  opened.push(d);
  return d;
};

/** What `fn` threw (failing when it did not). */
const thrown = (fn: () => unknown): Error & { code?: string } => {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a throw');
};

/** Waits until `check` holds, polling (each check is a synchronous query). */
async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  database = await testPostgresUrl();
  db = open(database.url);
  db.exec(`
    CREATE TABLE items (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, tag TEXT, size BIGINT, body BYTEA);
    CREATE TABLE counters (name TEXT PRIMARY KEY, n BIGINT NOT NULL);
  `);
});

afterAll(async () => {
  for (const d of opened) d.close();
  await database?.drop();
});

describe('openPostgresDb', () => {
  it('binds positional and named parameters, and answers with rows, one row or a change count', () => {
    const insert = db.prepare<[string, string | null, number], { id: number }>('INSERT INTO items (name, tag, size) VALUES (?, ?, ?) RETURNING id');
    const first = insert.get('a', 'red', 1);
    expect(first).toEqual({ id: expect.any(Number) });
    insert.get('b', null, 2);
    expect(db.prepare('UPDATE items SET size = size + @by WHERE size >= @from').run({ by: 10, from: 1 })).toEqual({ changes: 2 });
    expect(db.prepare('SELECT name, size FROM items WHERE name IN (?, ?) ORDER BY name').all('a', 'b')).toEqual([
      { name: 'a', size: 11 },
      { name: 'b', size: 12 },
    ]);
    expect(db.prepare('SELECT name FROM items WHERE name = ?').get('none')).toBeUndefined();
    // As better-sqlite3: arrays spread into positional values; a wrong count or a missing name is refused before sending.
    expect(db.prepare('SELECT ?::bigint + ?::bigint AS s').get([1, 2])).toEqual({ s: 3 });
    expect(thrown(() => db.prepare('SELECT ?::int').get()).message).toMatch(/1 parameter value\(s\) expected, 0 given/);
    expect(thrown(() => db.prepare('SELECT @x::int').get({})).message).toMatch(/missing named parameter "x"/);
    expect(() => db.prepare('SELECT ?, @x')).toThrow(/mixes/);
  });

  it('compares null-safely with IS ? and IS NOT ?', () => {
    db.prepare('INSERT INTO items (name, tag) VALUES (?, ?), (?, ?)').run('null-tag', null, 'blue-tag', 'blue');
    const byTag = db.prepare<[string | null], { name: string }>("SELECT name FROM items WHERE tag IS ? AND name LIKE '%-tag'");
    expect(byTag.all(null)).toEqual([{ name: 'null-tag' }]);
    expect(byTag.all('blue')).toEqual([{ name: 'blue-tag' }]);
    expect(db.prepare("SELECT name FROM items WHERE tag IS NOT @t AND name LIKE '%-tag'").all({ t: null })).toEqual([{ name: 'blue-tag' }]);
  });

  it('reads BIGINT and NUMERIC as numbers and BYTEA as Buffers', () => {
    const ms = 1_764_900_000_123;
    db.prepare('INSERT INTO items (name, size, body) VALUES (?, ?, ?)').run('blob', ms, Buffer.from([0, 1, 2, 255]));
    const row = db.prepare<[string], { size: unknown; body: unknown }>('SELECT size, body FROM items WHERE name = ?').get('blob');
    expect(row?.size).toBe(ms);
    expect(Buffer.isBuffer(row?.body)).toBe(true);
    expect([...(row?.body as Buffer)]).toEqual([0, 1, 2, 255]);
    expect(db.prepare('SELECT count(*) AS n, sum(size) AS total, avg(2) AS mean FROM items WHERE name = ?').get('blob')).toEqual({ n: 1, total: ms, mean: 2 });
    expect(db.prepare('SELECT ?::bigint AS big', ).get(2n ** 40n)).toEqual({ big: 2 ** 40 });
  });

  it('runs nested transactions as savepoints: an inner throw rolls back the inner part, an outer throw everything', () => {
    const bump = db.prepare('INSERT INTO counters (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = counters.n + 1');
    const read = (name: string): number | undefined => db.prepare<[string], { n: number }>('SELECT n FROM counters WHERE name = ?').get(name)?.n;
    const failing = db.transaction(() => {
      bump.run('inner');
      throw new Error('inner fails');
    });
    const outer = db.transaction(() => {
      expect(db.inTransaction).toBe(true);
      bump.run('outer');
      expect(() => failing()).toThrow('inner fails');
      expect(db.inTransaction).toBe(true);
      db.transaction(() => bump.run('inner-ok'))();
      return 'done';
    });
    expect(db.inTransaction).toBe(false);
    expect(outer()).toBe('done');
    expect(db.inTransaction).toBe(false);
    expect([read('outer'), read('inner'), read('inner-ok')]).toEqual([1, undefined, 1]);

    expect(() =>
      db.transaction(() => {
        bump.run('outer');
        db.transaction(() => bump.run('inner-ok'))();
        throw new Error('outer fails');
      })(),
    ).toThrow('outer fails');
    expect([read('outer'), read('inner-ok'), db.inTransaction]).toEqual([1, 1, false]);
    // A SQL error inside rolls back too, and the connection stays usable.
    expect(thrown(db.transaction(() => db.prepare('SELECT 1/0').get())).code).toBe('22012');
    expect(db.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 });
    expect(() => db.transaction(() => Promise.resolve(1))()).toThrow(/cannot return a promise/);
  });

  it('recovers from a failed statement inside a transaction only through a nested transaction (a savepoint)', () => {
    db.prepare('INSERT INTO items (name) VALUES (?)').run('taken');
    const insert = db.prepare('INSERT INTO items (name) VALUES (?)');
    // Unlike SQLite, PostgreSQL aborts the whole transaction on a failed statement: catching the error is not enough.
    const caughtOnly = thrown(
      db.transaction(() => {
        expect(isUniqueViolation(thrown(() => insert.run('taken')))).toBe(true);
        insert.run('after-caught');
      }),
    );
    expect(caughtOnly.code).toBe('25P02');
    // Wrapped in a nested transaction the failure rolls back to its savepoint and the outer one goes on.
    db.transaction(() => {
      expect(isUniqueViolation(thrown(db.transaction(() => insert.run('taken'))))).toBe(true);
      insert.run('after-savepoint');
    })();
    expect(db.prepare("SELECT name FROM items WHERE name LIKE 'after-%'").all()).toEqual([{ name: 'after-savepoint' }]);
  });

  it('recognises unique violations on PostgreSQL and SQLite alike', () => {
    db.prepare('INSERT INTO items (name) VALUES (?)').run('unique');
    const pgErr = thrown(() => db.prepare('INSERT INTO items (name) VALUES (?)').run('unique'));
    expect(pgErr.code).toBe('23505');
    expect(pgErr.message).toMatch(/duplicate key value violates unique constraint "items_name_key"/);
    expect(isUniqueViolation(pgErr)).toBe(true);
    expect(isUniqueViolation(thrown(() => db.prepare('INSERT INTO items (name) VALUES (NULL)').run()))).toBe(false);

    const lite = new Database(':memory:');
    try {
      lite.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER NOT NULL)');
      lite.prepare('INSERT INTO t VALUES (1, ?, 0)').run('x');
      expect(isUniqueViolation(thrown(() => lite.prepare('INSERT INTO t VALUES (2, ?, 0)').run('x')))).toBe(true);
      expect(isUniqueViolation(thrown(() => lite.prepare('INSERT INTO t VALUES (1, ?, 0)').run('y')))).toBe(true);
      expect(isUniqueViolation(thrown(() => lite.prepare('INSERT INTO t VALUES (3, ?, NULL)').run('z')))).toBe(false);
    } finally {
      lite.close();
    }
    expect(isUniqueViolation(new Error('plain'))).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
  });

  it('serialises transactions across connections with the writer lock', () => {
    const other = open(database.url, { lockTimeoutMs: 300 });
    const heldByOthers = (d: PostgresDb): number =>
      d.prepare<[], { n: number }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()").get()?.n ?? -1;
    db.transaction(() => {
      // This thread holds the lock, so the other connection's BEGIN waits for it (here until its lock timeout).
      const began = performance.now();
      const err = thrown(other.transaction(() => 'never'));
      expect(err.code).toBe('55P03');
      expect(performance.now() - began).toBeGreaterThanOrEqual(290);
      expect(other.inTransaction).toBe(false);
      expect(heldByOthers(other)).toBe(1);
    })();
    expect(other.transaction(() => heldByOthers(other))()).toBe(0);
  });

  it('makes a second BEGIN wait until the writer lock is released elsewhere', async () => {
    // Another process holds the lock for ~1 s; this process's transaction waits (blocking) until it commits.
    const holder = spawn(join(postgresBinDir(), 'psql'), [database.url, '-qAt', '-c', `BEGIN; SELECT pg_advisory_xact_lock(${OKESU_WRITER_LOCK}); SELECT pg_sleep(1); COMMIT;`], { stdio: 'ignore' });
    const exited = new Promise((ok) => holder.once('exit', ok));
    // Advisory locks of this test's database only: other test files hold their own on the same server.
    const held = db.prepare<[], { n: number }>(
      "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    await until('psql to take the writer lock', () => held.get()?.n === 1);
    const began = performance.now();
    const seenInside = db.transaction(() => held.get()?.n)();
    const waited = performance.now() - began;
    expect(seenInside).toBe(0);
    expect(waited).toBeGreaterThan(300);
    expect(waited).toBeLessThan(4000);
    await exited;
  });

  it('sets the session timeouts, and a statement past its timeout fails with a clear error', () => {
    expect(db.prepare('SHOW statement_timeout').get()).toEqual({ statement_timeout: '5s' });
    expect(db.prepare('SHOW lock_timeout').get()).toEqual({ lock_timeout: '5s' });
    const quick = open(database.url, { statementTimeoutMs: 200 });
    const err = thrown(() => quick.prepare('SELECT pg_sleep(2)').get());
    expect(err.code).toBe('57014');
    expect(err.message).toBe('canceling statement due to statement timeout');
    expect(quick.prepare('SELECT 2 AS two').get()).toEqual({ two: 2 });
  });

  it('bounds every call: a thread that does not answer is replaced and the call fails instead of hanging', () => {
    const bounded = open(database.url, { statementTimeoutMs: 20_000, callTimeoutMs: 500 });
    const began = performance.now();
    const err = thrown(() => bounded.prepare('SELECT pg_sleep(3)').get());
    expect(performance.now() - began).toBeLessThan(2000);
    expect(err).toBeInstanceOf(OkesuError);
    expect(err.code).toBe('OKS_ERR_STORE_UNAVAILABLE');
    expect(err.message).toMatch(/no answer from the database thread/);
    expect(bounded.prepare('SELECT 3 AS three').get()).toEqual({ three: 3 });
  });

  it('reconnects after its session is ended, except inside a transaction', () => {
    const victim = open(database.url);
    const pid = victim.prepare<[], { pid: number }>('SELECT pg_backend_pid() AS pid').get()?.pid;
    db.prepare('SELECT pg_terminate_backend(?)').get(pid);
    // The thread may have seen the session end already (then it reconnects at once); if not, one call fails clearly.
    try {
      victim.prepare('SELECT 1').get();
    } catch (err) {
      expect(err).toBeInstanceOf(OkesuError);
      expect((err as Error).message).toContain(`PostgreSQL at ${database.url}: `);
    }
    expect(victim.prepare('SELECT 4 AS four, pg_backend_pid() <> ? AS other').get(pid)).toEqual({ four: 4, other: true });

    const inTx = thrown(
      victim.transaction(() => {
        const p = victim.prepare<[], { pid: number }>('SELECT pg_backend_pid() AS pid').get()?.pid;
        db.prepare('SELECT pg_terminate_backend(?)').get(p);
        victim.prepare('SELECT 1').get();
      }),
    );
    expect(inTx.code).toBe('OKS_ERR_STORE_UNAVAILABLE');
    expect(victim.inTransaction).toBe(false);
    expect(victim.prepare('SELECT 5 AS five').get()).toEqual({ five: 5 });
  });

  it('prints the time of 1,000 single-row inserts in one transaction (not asserted)', () => {
    db.exec('CREATE TABLE timing (id BIGINT PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO timing (id, v) VALUES (?, ?)');
    const began = performance.now();
    db.transaction(() => {
      for (let i = 0; i < 1000; i++) insert.run(i, `value ${i}`);
    })();
    const ms = performance.now() - began;
    const single = performance.now();
    for (let i = 0; i < 200; i++) db.prepare('SELECT ?::bigint AS i').get(i);
    const perSelect = (performance.now() - single) / 200;
    console.log(`postgres-db: 1,000 inserts in one transaction: ${ms.toFixed(0)} ms (${(ms / 1000).toFixed(3)} ms per statement); a one-row SELECT: ${perSelect.toFixed(3)} ms`);
    expect(db.prepare('SELECT count(*) AS n FROM timing').get()).toEqual({ n: 1000 });
  });
});

describe('openPostgresDb against an unusable server', () => {
  it('names the URL without its password when it cannot connect', async () => {
    const server = await startPostgresServer();
    await server.stop();
    const url = `postgres://postgres:s3cret@127.0.0.1:${server.port}/postgres`;
    const err = thrown(() => openPostgresDb(url, { connectTimeoutMs: 2000 }));
    expect(err).toBeInstanceOf(OkesuError);
    expect(err.message).toContain(`PostgreSQL at postgres://postgres@127.0.0.1:${server.port}/postgres: cannot connect`);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).not.toContain('s3cret');
  });

  it('fails a call clearly, without hanging, once the server is stopped', async () => {
    const server = await startPostgresServer();
    const d = openPostgresDb(server.url);
    try {
      expect(d.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 });
      await server.stop();
      const began = performance.now();
      const err = thrown(() => d.prepare('SELECT 1 AS one').get());
      expect(performance.now() - began).toBeLessThan(12_000);
      expect(err).toBeInstanceOf(OkesuError);
      expect(err.code).toBe('OKS_ERR_STORE_UNAVAILABLE');
      expect(err.message).toContain(server.url);
    } finally {
      d.close();
    }
  });
});
