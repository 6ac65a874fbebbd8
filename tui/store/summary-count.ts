import type { FindingSummary } from '../../src/protocol/api.js';
import type { StoredFinding, TriageStatus } from '../../src/protocol/finding.js';
import type { TriageView } from '../../src/protocol/findings-api.js';
import type { Ring } from './ring.js';

type Counts = Record<string, number>;

const bump = (counts: Counts, key: string, by: number): void => {
  counts[key] = Math.max(0, (counts[key] ?? 0) + by);
};

/** Mutable copies of a summary's count records, so one batch copies each record once. */
function draft(summary: FindingSummary): FindingSummary {
  return {
    ...summary,
    by_severity: { ...summary.by_severity },
    by_category: { ...summary.by_category },
    by_agent: { ...summary.by_agent },
    by_status: { ...summary.by_status },
    open_by_severity: { ...summary.open_by_severity },
    ...(summary.open_by_host === undefined ? {} : { open_by_host: { ...summary.open_by_host } }),
  };
}

/**
 * The summary with newly stored findings counted in. `groups` is left alone (whether a finding starts a new group
 * is only known to the CP); the next summary refresh brings it, and corrects any drift.
 */
export function countFindings(summary: FindingSummary, findings: readonly StoredFinding[]): FindingSummary {
  if (findings.length === 0) return summary;
  const next = draft(summary);
  for (const f of findings) {
    next.total += 1;
    bump(next.by_severity, f.severity, 1);
    bump(next.by_category, f.category, 1);
    bump(next.by_agent, f.agent, 1);
    bump(next.by_status, f.status, 1);
    if (f.status === 'open') {
      bump(next.open_by_severity, f.severity, 1);
      if (next.open_by_host !== undefined) bump(next.open_by_host, f.host, 1);
    }
  }
  return next;
}

/** A finding whose triage status changed from `from`. */
interface StatusChange {
  finding: StoredFinding;
  from: TriageStatus;
}

/** True when `triage` applies to `finding`: the finding itself, or (group scope) any finding of its fingerprint. */
export function triageMatches(triage: TriageView, finding: StoredFinding): boolean {
  return triage.scope === 'group' ? finding.fingerprint === triage.fingerprint : finding.id === triage.finding_id;
}

/**
 * Applies a triage decision to the live feed: matching findings take the new status, and the summary's status and
 * open counts move for those that changed. Findings outside the feed are not known here; the summary refresh that
 * follows a triage brings the exact counts. Returns the same ring and summary when nothing changed.
 */
export function applyTriage(
  findings: Ring<StoredFinding>,
  summary: FindingSummary,
  triage: TriageView,
): { findings: Ring<StoredFinding>; summary: FindingSummary } {
  const changes: StatusChange[] = [];
  const mapped = findings.map((f) => {
    if (f.status === triage.status || !triageMatches(triage, f)) return f;
    changes.push({ finding: f, from: f.status });
    return { ...f, status: triage.status };
  });
  if (changes.length === 0) return { findings, summary };
  const next = draft(summary);
  for (const { finding, from } of changes) {
    bump(next.by_status, from, -1);
    bump(next.by_status, triage.status, 1);
    const openDelta = (triage.status === 'open' ? 1 : 0) - (from === 'open' ? 1 : 0);
    if (openDelta !== 0) {
      bump(next.open_by_severity, finding.severity, openDelta);
      if (next.open_by_host !== undefined) bump(next.open_by_host, finding.host, openDelta);
    }
  }
  return { findings: mapped, summary: next };
}
