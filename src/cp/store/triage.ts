import type { SqlDb } from './sql/sql-db.js';
import type { TriageRepo } from './store-contract.js';
import type { TriageStatus } from '../../protocol/finding.js';
import type { TriageRequest } from '../../protocol/findings-api.js';

/** What a triage changed: the finding's fingerprint and how many findings changed status. */
export interface TriageChange {
  fingerprint: string;
  updated: number;
}

/**
 * Triage writes: a finding's status, or that of every finding of its fingerprint group, and the group's `open`
 * count with it. Call inside the transaction that also audits and feeds the decision.
 */
export function createTriageRepo(db: SqlDb): TriageRepo {
  const findingOf = db.prepare<[number], { fingerprint: string; status: string }>('SELECT fingerprint, status FROM findings WHERE id = ?');
  const setOne = db.prepare('UPDATE findings SET status = ? WHERE id = ?');
  // No index on fingerprint (it would tax every ingested finding): a group triage scans the narrow findings table.
  const setGroup = db.prepare('UPDATE findings SET status = ? WHERE fingerprint = ? AND status != ?');
  const addOpen = db.prepare('UPDATE finding_groups SET open = CASE WHEN open + @delta < 0 THEN 0 ELSE open + @delta END WHERE fingerprint = @fingerprint');
  // Every finding of the group now has the new status, so `open` is all of them or none.
  const setOpen = db.prepare('UPDATE finding_groups SET open = CASE WHEN ? = 1 THEN count ELSE 0 END WHERE fingerprint = ?');

  return {
    /** Applies a status to finding `id` (or its group); undefined when there is no such finding. */
    apply(id: number, status: TriageStatus, scope: TriageRequest['scope']): TriageChange | undefined {
      const found = findingOf.get(id);
      if (!found) return undefined;
      if (scope === 'group') {
        const updated = setGroup.run(status, found.fingerprint, status).changes;
        if (updated > 0) setOpen.run(status === 'open' ? 1 : 0, found.fingerprint);
        return { fingerprint: found.fingerprint, updated };
      }
      if (found.status === status) return { fingerprint: found.fingerprint, updated: 0 };
      setOne.run(status, id);
      const delta = status === 'open' ? 1 : found.status === 'open' ? -1 : 0;
      if (delta !== 0) addOpen.run({ delta, fingerprint: found.fingerprint });
      return { fingerprint: found.fingerprint, updated: 1 };
    },
  };
}
export type { TriageRepo };
