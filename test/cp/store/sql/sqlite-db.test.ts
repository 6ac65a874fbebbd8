import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { SqlDb } from '../../../../src/cp/store/sql/sql-db.js';
import { sqliteDb } from '../../../../src/cp/store/sql/sqlite-db.js';

describe('sqliteDb', () => {
  it('is the better-sqlite3 connection itself, with dialect sqlite', () => {
    const raw = new Database(':memory:');
    const db: SqlDb = sqliteDb(raw);
    try {
      expect(db.dialect).toBe('sqlite');
      expect(sqliteDb(raw)).toBe(db);
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)');
      const id = db.transaction(() => {
        expect(db.inTransaction).toBe(true);
        expect(() => db.transaction(() => {
          db.prepare('INSERT INTO t (name) VALUES (?)').run('rolled back');
          throw new Error('inner');
        })()).toThrow('inner');
        return db.prepare<[{ name: string }], { id: number }>('INSERT INTO t (name) VALUES (@name) RETURNING id').get({ name: 'kept' })?.id;
      })();
      expect(db.prepare('SELECT id, name FROM t').all()).toEqual([{ id, name: 'kept' }]);
      expect(db.prepare('UPDATE t SET name = ? WHERE name IS ?').run('renamed', 'kept')).toMatchObject({ changes: 1 });
    } finally {
      db.close();
    }
  });
});
