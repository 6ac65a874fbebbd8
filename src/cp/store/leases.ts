import type { SqlDb } from './sql/sql-db.js';
import type { LeasesRepo } from './store-contract.js';

/** A lease as the store reports it after an attempt to take or renew it. */
export interface LeaseState {
  /** True when the caller holds it now. */
  held: boolean;
  holder: string;
  /** Increases each time the lease changes hands: a fencing number for what the holder writes. */
  epoch: number;
  /** When it expires unless renewed (ms, on the clock `acquire` goes by). */
  expiresAt: number;
}

/**
 * Named leases (`leases` table, schema v7). Time is the database server's clock on Postgres, so replicas' clocks do
 * not matter; on SQLite (one process) it is the caller's clock, `now`.
 */
export function createLeasesRepo(db: SqlDb, now: () => number = Date.now): LeasesRepo {
  const pg = db.dialect === 'postgres';
  const nowSql = pg ? '(extract(epoch from clock_timestamp()) * 1000)::bigint' : '@now';
  // One statement takes a free or expired lease or renews one's own: a conflicting row is updated only when it is
  // ours or has expired, and RETURNING yields a row only when it was inserted or updated (then we hold it).
  const take = db.prepare<[Record<string, unknown>], { holder: string; epoch: number; expires_at: number }>(
    `INSERT INTO leases (name, holder, epoch, expires_at) VALUES (@name, @holder, 1, ${nowSql} + @ttl)
     ON CONFLICT (name) DO UPDATE SET
       epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch ELSE leases.epoch + 1 END,
       holder = excluded.holder, expires_at = excluded.expires_at
     WHERE leases.holder = excluded.holder OR leases.expires_at < ${nowSql}
     RETURNING holder, epoch, expires_at`,
  );
  const read = db.prepare<[string], { holder: string; epoch: number; expires_at: number }>('SELECT holder, epoch, expires_at FROM leases WHERE name = ?');
  // Released, the row stays (expired) so the next holder's epoch is higher than every earlier one.
  const release = db.prepare(`UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?`);
  return {
    acquire(name, holder, ttlMs) {
      const params: Record<string, unknown> = { name, holder, ttl: ttlMs };
      if (!pg) params['now'] = now();
      const taken = take.get(params);
      if (taken) return { held: true, holder: taken.holder, epoch: taken.epoch, expiresAt: taken.expires_at };
      // Held by another, unexpired: report it (it may have been released or expired since; the next attempt sees).
      const other = read.get(name);
      return { held: false, holder: other?.holder ?? '', epoch: other?.epoch ?? 0, expiresAt: other?.expires_at ?? 0 };
    },
    release(name, holder) {
      release.run(name, holder);
    },
  };
}
export type { LeasesRepo };
