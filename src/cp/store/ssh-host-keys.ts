import type { SqlDb } from './sql/sql-db.js';
import type { SshHostKeysRepo } from './store-contract.js';

/** An SSH host key pinned for a deploy target (`user@host:port`) on its first successful deploy. */
export interface SshHostKeyRow {
  target: string;
  /** `SHA256:…` as OpenSSH prints it. */
  fingerprint: string;
  pinned_at: number;
  pinned_by: string;
}

/** The SSH host keys `okesu deploy` pinned, one per target (trust on first use). */
export function createSshHostKeysRepo(db: SqlDb): SshHostKeysRepo {
  const get = db.prepare<[string], SshHostKeyRow>('SELECT * FROM ssh_host_keys WHERE target = ?');
  const list = db.prepare<[], SshHostKeyRow>('SELECT * FROM ssh_host_keys ORDER BY target');
  // First pin wins: a concurrent second pin of the same target keeps the first (the caller compares after).
  const insert = db.prepare('INSERT INTO ssh_host_keys (target, fingerprint, pinned_at, pinned_by) VALUES (?, ?, ?, ?) ON CONFLICT (target) DO NOTHING');
  const remove = db.prepare('DELETE FROM ssh_host_keys WHERE target = ?');
  return {
    get(target: string): SshHostKeyRow | undefined {
      return get.get(target);
    },
    list(): SshHostKeyRow[] {
      return list.all();
    },
    /** Pins `fingerprint` for `target` unless a key is pinned already; true when this call pinned it. */
    pin(row: SshHostKeyRow): boolean {
      return insert.run(row.target, row.fingerprint, row.pinned_at, row.pinned_by).changes > 0;
    },
    /** Forgets the pin of `target` (the next deploy pins again); false when none was pinned. */
    forget(target: string): boolean {
      return remove.run(target).changes > 0;
    },
  };
}
export type { SshHostKeysRepo };
