import type { SqlDb } from './sql/sql-db.js';
import type { FindingViews } from './store-contract.js';
import type { FindingFilter } from '../../protocol/api.js';
import { SEVERITIES, severityRank, type TriageStatus } from '../../protocol/finding.js';
import type { FindingClusterView, FindingGroupView } from '../../protocol/findings-api.js';
import { findingWhere } from './findings.js';

/** How many hosts a group or cluster view names. */
const SAMPLE_HOSTS = 5;

/** Filters of the groups view (`status`: groups with at least one finding in it). */
export interface GroupsFilter extends Omit<FindingFilter, 'host'> {
  status?: TriageStatus;
  limit: number;
}

/** Filters of the clusters view. */
export interface ClustersFilter extends Omit<FindingFilter, 'host'> {
  limit: number;
}

interface GroupRow {
  fingerprint: string;
  severity: string;
  title: string;
  category: string;
  agent: string;
  count: number;
  open: number;
  first_seen: number;
  last_seen: number;
  last_finding_id: number;
  first_host: string;
  hosts: number;
  more_hosts: string;
}

interface ClusterRow {
  indicator: string;
  kind: string;
  findings: number;
  last_seen: number;
}

const severityOf = (rank: number): FindingGroupView['severity'] => SEVERITIES[SEVERITIES.length - 1 - rank] ?? 'INFO';

/**
 * The groups and clusters views of stored findings. Groups read the `finding_groups` rows (counts kept at ingest
 * and triage), never the findings, except for a status other than `open`; clusters read `finding_indicators`.
 */
export function createFindingViews(db: SqlDb): FindingViews {
  // The sample hosts as one JSON array text (each database has its own aggregate for it).
  const jsonArray = db.dialect === 'sqlite' ? 'json_group_array(host)' : "coalesce(json_agg(host), '[]')::text";
  const groupsSql = (filter: GroupsFilter): { sql: string; params: unknown[] } => {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (filter.severity) {
      const levels = SEVERITIES.filter((s) => severityRank(s) >= severityRank(filter.severity as FindingGroupView['severity']));
      clauses.push(`g.severity IN (${levels.map(() => '?').join(', ')})`);
      params.push(...levels);
    }
    if (filter.agent) {
      clauses.push('g.agent = ?');
      params.push(filter.agent);
    }
    if (filter.category) {
      clauses.push('g.category = ?');
      params.push(filter.category);
    }
    if (filter.status === 'open') clauses.push('g.open > 0');
    else if (filter.status) {
      // Only groups with a non-open finding can match; the findings scan runs once (an uncorrelated IN).
      clauses.push('g.count > g.open AND g.fingerprint IN (SELECT fingerprint FROM findings WHERE status = ?)');
      params.push(filter.status);
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    // The page is cut first, so host counts and samples are read for the groups shown only.
    const sql = `SELECT g.*, 1 + (SELECT count(*) FROM finding_group_hosts h WHERE h.fingerprint = g.fingerprint) AS hosts,
        (SELECT ${jsonArray} FROM (SELECT host FROM finding_group_hosts h WHERE h.fingerprint = g.fingerprint LIMIT ${SAMPLE_HOSTS - 1}) AS s) AS more_hosts
      FROM (SELECT * FROM finding_groups g ${where} ORDER BY g.last_seen DESC, g.last_finding_id DESC LIMIT ?) g
      ORDER BY g.last_seen DESC, g.last_finding_id DESC`;
    return { sql, params: [...params, filter.limit] };
  };

  return {
    /** Fingerprint groups matching, most recently seen first. */
    groups(filter: GroupsFilter): FindingGroupView[] {
      const q = groupsSql(filter);
      return db.prepare<unknown[], GroupRow>(q.sql).all(...q.params).map((r) => ({
        fingerprint: r.fingerprint, severity: SEVERITIES.find((s) => s === r.severity) ?? 'INFO', title: r.title,
        category: r.category, agent: r.agent, count: r.count, open: r.open, hosts: r.hosts,
        sample_hosts: [r.first_host, ...(JSON.parse(r.more_hosts) as string[])],
        first_seen: r.first_seen, last_seen: r.last_seen, last_finding_id: r.last_finding_id,
      }));
    },
    /** Indicators shared by at least two findings matching, the most findings first. */
    clusters(filter: ClustersFilter): FindingClusterView[] {
      const w = findingWhere(filter);
      // Without a filter the indicators table answers alone (scanned in indicator order: no sort to group).
      const from = w.sql === '' ? 'finding_indicators i' : `finding_indicators i JOIN findings f ON f.id = i.finding_id ${w.sql}`;
      const top = db
        .prepare<unknown[], ClusterRow>(
          `SELECT i.indicator AS indicator, min(i.kind) AS kind, count(*) AS findings, max(i.ts) AS last_seen FROM ${from}
           GROUP BY i.indicator HAVING count(*) >= 2 ORDER BY findings DESC, last_seen DESC, indicator LIMIT ?`,
        )
        .all(...w.params, filter.limit);
      if (top.length === 0) return [];
      const and = w.sql === '' ? '' : `AND ${w.sql.slice('WHERE '.length)}`;
      const facts = db.prepare<unknown[], { hosts: number; rank: number }>(
        `SELECT count(DISTINCT f.host) AS hosts, max(f.severity_rank) AS rank
         FROM finding_indicators i JOIN findings f ON f.id = i.finding_id WHERE i.indicator = ? ${and}`,
      );
      const sample = db.prepare<unknown[], { host: string }>(
        `SELECT DISTINCT f.host AS host FROM finding_indicators i JOIN findings f ON f.id = i.finding_id WHERE i.indicator = ? ${and} LIMIT ${SAMPLE_HOSTS}`,
      );
      return top.map((c) => {
        const fact = facts.get(c.indicator, ...w.params) ?? { hosts: 0, rank: 0 };
        return {
          indicator: c.indicator, kind: c.kind, findings: c.findings, hosts: fact.hosts,
          sample_hosts: sample.all(c.indicator, ...w.params).map((r) => r.host),
          max_severity: severityOf(fact.rank), last_seen: c.last_seen,
        };
      });
    },
  };
}
export type { FindingViews };
