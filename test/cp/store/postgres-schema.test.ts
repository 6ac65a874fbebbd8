import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, SCHEMA_VERSION } from '../../../src/cp/store/database.js';
import { sqliteDb } from '../../../src/cp/store/sql/sqlite-db.js';
import { openPostgresDb } from '../../../src/cp/store/sql/postgres-db.js';
import { applyPostgresSchema } from '../../../src/cp/store/postgres-schema.js';
import { openStore } from '../../../src/cp/store/store.js';
import { testPostgresUrl, type TestPostgresDatabase } from '../../support/postgres.js';

type Columns = Record<string, string[]>;

const run = promisify(execFile);
const TSX = join(import.meta.dirname, '../../../node_modules/.bin/tsx');
/** Opens the store at `url` in a process of its own (a replica starting). */
const openInChild = async (url: string): Promise<string> =>
  (await run(TSX, [join(import.meta.dirname, 'open-store-child.ts'), url], { timeout: 30_000 })).stdout.trim();

/** Every table's columns with their NOT NULL flag, by name (types differ by design: INTEGER → BIGINT and so on). */
function sqliteColumns(path: string): Columns {
  const db = sqliteDb(openDatabase(path));
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
    return Object.fromEntries(tables.map(({ name }) => [
      name,
      db.prepare<[], { name: string; notnull: number; pk: number }>(`PRAGMA table_info(${name})`).all()
        // A SQLite primary key column may hold NULL unless declared NOT NULL; Postgres's never does.
        .map((c) => `${c.name}${c.notnull || c.pk ? ' NOT NULL' : ''}`).sort(),
    ]));
  } finally {
    db.close();
  }
}

describe('PostgreSQL schema', () => {
  let pg: TestPostgresDatabase;
  let dir: string;
  beforeEach(async () => {
    pg = await testPostgresUrl();
    dir = mkdtempSync(join(tmpdir(), 'okesu-pgschema-'));
  });
  afterEach(async () => {
    await pg.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has the tables and columns of the migrated SQLite schema, with the same NOT NULLs', () => {
    const db = openPostgresDb(pg.url);
    try {
      applyPostgresSchema(db);
      const rows = db.prepare<[], { table_name: string; column_name: string; is_nullable: string }>(
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'okesu_schema'",
      ).all();
      const pgColumns: Columns = {};
      for (const r of rows) (pgColumns[r.table_name] ??= []).push(`${r.column_name}${r.is_nullable === 'NO' ? ' NOT NULL' : ''}`);
      for (const cols of Object.values(pgColumns)) cols.sort();
      expect(pgColumns).toEqual(sqliteColumns(join(dir, 'cp.db')));
    } finally {
      db.close();
    }
  });

  it('is created once when replicas start at the same time, and recorded with its version', async () => {
    // Processes racing to create it: the advisory lock makes the later ones find it done.
    expect(await Promise.all([0, 1, 2].map(() => openInChild(pg.url)))).toEqual(['opened', 'opened', 'opened']);
    const store = openStore(pg.url);
    try {
      expect(store.db.prepare('SELECT version FROM okesu_schema').all()).toEqual([{ version: SCHEMA_VERSION }]);
    } finally {
      store.close();
    }
  });

  it('refuses a database written by a newer okesu', () => {
    const db = openPostgresDb(pg.url);
    try {
      applyPostgresSchema(db);
      db.prepare('UPDATE okesu_schema SET version = ?').run(SCHEMA_VERSION + 1);
    } finally {
      db.close();
    }
    expect(() => openStore(pg.url)).toThrow(/newer than this okesu understands/);
  });
});
