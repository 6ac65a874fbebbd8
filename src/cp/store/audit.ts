import type { SqlDb } from './sql/sql-db.js';
import type { AuditRepo } from './store-contract.js';
import type { AuditEntry } from '../../protocol/api.js';

/** Who did something: a token's name (or id) and role. */
export interface Actor {
  name: string;
  role: string;
}

/** The append-only audit log of mutating operator actions. */
export function createAuditRepo(db: SqlDb): AuditRepo {
  const insert = db.prepare('INSERT INTO audit (ts, actor, role, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)');
  const list = db.prepare<[number], Omit<AuditEntry, 'detail'> & { detail: string }>('SELECT * FROM audit ORDER BY id DESC LIMIT ?');
  return {
    record(ts: number, actor: Actor, action: string, target: string, detail: Record<string, unknown> = {}): void {
      insert.run(ts, actor.name, actor.role, action, target, JSON.stringify(detail));
    },
    /** Newest first. */
    list(limit: number): AuditEntry[] {
      return list.all(limit).map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
    },
  };
}
export type { AuditRepo };
