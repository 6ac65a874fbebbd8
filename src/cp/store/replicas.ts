import type { SqlDb } from './sql/sql-db.js';
import type { ReplicasRepo } from './store-contract.js';

/** A replica as it announces itself (`replicas` table, schema v7). */
export interface ReplicaRow {
  id: string;
  /** Where the other replicas reach it. */
  url: string;
  version: string;
  started_at: number;
  /** When it last announced itself (its own clock, ms). */
  heard_at: number;
  /** How many host tunnels it holds. */
  tunnels: number;
  load: number;
}

/** The CP replicas sharing the store. */
export function createReplicasRepo(db: SqlDb): ReplicasRepo {
  const upsert = db.prepare(
    `INSERT INTO replicas (id, url, version, started_at, heard_at, tunnels, load) VALUES (@id, @url, @version, @started_at, @heard_at, @tunnels, @load)
     ON CONFLICT (id) DO UPDATE SET url = excluded.url, version = excluded.version, started_at = excluded.started_at,
       heard_at = excluded.heard_at, tunnels = excluded.tunnels, load = excluded.load`,
  );
  const list = db.prepare<[], ReplicaRow>('SELECT id, url, version, started_at, heard_at, tunnels, load FROM replicas ORDER BY id');
  const remove = db.prepare('DELETE FROM replicas WHERE id = ?');
  return {
    heartbeat: (row) => void upsert.run({ ...row }),
    list: () => list.all(),
    remove: (id) => void remove.run(id),
  };
}
export type { ReplicasRepo };
