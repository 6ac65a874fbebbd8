import type { SqlDb } from './sql/sql-db.js';
import type { MetaRepo } from './store-contract.js';

/** The `meta` key/value table (settings, shared identity). */
export function createMetaRepo(db: SqlDb): MetaRepo {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  const set = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  // A concurrent first insert makes ours do nothing (Postgres waits for it to commit); the read then sees the winner's.
  const insert = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
  return {
    get: (key) => get.get(key)?.value,
    set: (key, value) => void set.run(key, value),
    setIfAbsent(key, value) {
      insert.run(key, value);
      return get.get(key)?.value ?? value;
    },
  };
}
export type { MetaRepo };
