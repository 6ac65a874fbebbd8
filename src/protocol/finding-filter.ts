import type { FindingFilter } from './api.js';
import { severityRank, type StoredFinding } from './finding.js';

/** True when a finding passes a filter; severity means that level and above. Used by the CP's stream and by `tail`. */
export function matchesFilter(finding: StoredFinding, filter: FindingFilter): boolean {
  if (filter.severity && severityRank(finding.severity) < severityRank(filter.severity)) return false;
  if (filter.host && finding.host !== filter.host) return false;
  if (filter.agent && finding.agent !== filter.agent) return false;
  if (filter.category && finding.category !== filter.category) return false;
  return true;
}
