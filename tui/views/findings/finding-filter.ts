import { SEVERITIES, severityRank, type Severity, type StoredFinding } from '../../../src/protocol/finding.js';
import type { FindingClusterView, FindingGroupView } from '../../../src/protocol/findings-api.js';

/**
 * The findings view's filter language, shared by the frame's filter (`host:web-01` from the host view, `fp:…` from a
 * group) and the `/` live filter. Space-separated terms, all must match:
 * - `host:NAME`, `agent:NAME`, `cat:CATEGORY`, `status:STATUS`, `run:ID` (exact, any case), `fp:FINGERPRINT`,
 *   `ind:INDICATOR` (exact);
 * - `sev:high` — this severity and above (as `okesu tail --severity`);
 * - any other word — a case-insensitive substring of title, host, agent, resource or severity.
 */
export interface FilterTerm {
  key: FilterKey | null;
  value: string;
}

const KEYS = { host: 'host', agent: 'agent', cat: 'category', category: 'category', status: 'status', run: 'run', fp: 'fingerprint', ind: 'indicator', sev: 'severity', severity: 'severity' } as const;
/** A keyed term's field. */
export type FilterKey = (typeof KEYS)[keyof typeof KEYS];

/** Splits filter texts (empty or undefined ones skipped) into terms. A `key:` the language does not know is a plain word. */
export function parseFilter(...texts: (string | undefined)[]): FilterTerm[] {
  const terms: FilterTerm[] = [];
  for (const text of texts) {
    for (const word of (text ?? '').trim().split(/\s+/)) {
      if (word === '') continue;
      const colon = word.indexOf(':');
      const key = colon > 0 ? word.slice(0, colon).toLowerCase() : '';
      if (colon > 0 && Object.hasOwn(KEYS, key)) terms.push({ key: KEYS[key as keyof typeof KEYS], value: word.slice(colon + 1) });
      else terms.push({ key: null, value: word.toLowerCase() });
    }
  }
  return terms;
}

/** The severity a `sev:` value names (any case, a prefix like `crit` is fine), or undefined. */
function severityOf(value: string): Severity | undefined {
  const upper = value.toUpperCase();
  return upper === '' ? undefined : SEVERITIES.find((s) => s.startsWith(upper));
}

/** True when `severity` is at least the level `value` names (an unknown level matches nothing). */
function atLeast(severity: Severity, value: string): boolean {
  const wanted = severityOf(value);
  return wanted !== undefined && severityRank(severity) >= severityRank(wanted);
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const contains = (haystack: readonly string[], needle: string): boolean => haystack.some((h) => h.toLowerCase().includes(needle));

/** True when a finding matches every term. */
export function matchesFinding(f: StoredFinding, terms: readonly FilterTerm[]): boolean {
  return terms.every((t) => {
    switch (t.key) {
      case null: return contains([f.title, f.host, f.agent, f.resource, f.severity], t.value);
      case 'host': return same(f.host, t.value);
      case 'agent': return same(f.agent, t.value);
      case 'category': return same(f.category, t.value);
      case 'status': return same(f.status, t.value);
      case 'run': return same(f.run_id, t.value);
      case 'fingerprint': return f.fingerprint === t.value;
      case 'indicator': return f.indicators.includes(t.value);
      case 'severity': return atLeast(f.severity, t.value);
    }
  });
}

/**
 * True when a fingerprint group matches every term. A group lists only a sample of its hosts, so `host:` matches a
 * group whose sample holds the host (a group seen on more than 5 hosts may be missed); `status:` matches a group
 * with open findings for `open`, any group otherwise; `run:` and `ind:` match no group.
 */
export function matchesGroup(g: FindingGroupView, terms: readonly FilterTerm[]): boolean {
  return terms.every((t) => {
    switch (t.key) {
      case null: return contains([g.title, g.agent, g.severity, g.category, ...g.sample_hosts], t.value);
      case 'host': return g.sample_hosts.some((h) => same(h, t.value));
      case 'agent': return same(g.agent, t.value);
      case 'category': return same(g.category, t.value);
      case 'status': return !same(t.value, 'open') || g.open > 0;
      case 'run': return false;
      case 'fingerprint': return g.fingerprint === t.value;
      case 'indicator': return false;
      case 'severity': return atLeast(g.severity, t.value);
    }
  });
}

/** True when an indicator cluster matches every term (`host:` against its sample of hosts, as for groups). */
export function matchesCluster(c: FindingClusterView, terms: readonly FilterTerm[]): boolean {
  return terms.every((t) => {
    switch (t.key) {
      case null: return contains([c.indicator, c.kind, c.max_severity, ...c.sample_hosts], t.value);
      case 'host': return c.sample_hosts.some((h) => same(h, t.value));
      case 'indicator': return c.indicator === t.value;
      case 'severity': return atLeast(c.max_severity, t.value);
      case 'agent': case 'category': case 'status': case 'run': case 'fingerprint': return false;
    }
  });
}
