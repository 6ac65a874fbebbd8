import type { SqlDb } from './sql/sql-db.js';
import type { FindingsRepo } from './store-contract.js';
import type { FindingFilter, FindingSummary } from '../../protocol/api.js';
import type { FindingDetail } from '../../protocol/findings-api.js';
import { SEVERITIES, severityRank, TRIAGE_STATUSES, type StoredFinding } from '../../protocol/finding.js';
import { parseStoredFinding } from '../findings/stored-finding.js';

/** Query options on top of a filter. */
export interface FindingQuery extends FindingFilter {
  sinceMs?: number;
  /** Page oldest first: only findings with a larger id. */
  afterId?: number;
  limit: number;
}

/** A findings row joined with its transcript event: everything needed to rebuild the stored finding. */
export interface FindingRow {
  id: number;
  fingerprint: string;
  received_at: number;
  status: string;
  indicators: string;
  event: string;
}

/** The columns of a FindingRow, for a query joining `findings f` with `events e`. */
export const FINDING_ROW_COLUMNS = 'f.id AS id, f.fingerprint AS fingerprint, f.received_at AS received_at, f.status AS status, f.indicators AS indicators, e.body AS event';

/** Rebuilds the stored finding of a joined row. */
export function findingFromRow(row: FindingRow): StoredFinding {
  return parseStoredFinding(row.event, {
    id: row.id,
    fingerprint: row.fingerprint,
    received_at: row.received_at,
    status: TRIAGE_STATUSES.find((s) => s === row.status) ?? 'open',
    indicators: row.indicators === '' ? [] : (JSON.parse(row.indicators) as string[]),
  });
}

/** The WHERE clause (over `findings f`, or '') and its parameters for a filter. */
export function findingWhere(filter: FindingFilter & { sinceMs?: number; afterId?: number }): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.severity) {
    clauses.push('f.severity_rank >= ?');
    params.push(severityRank(filter.severity));
  }
  if (filter.host) {
    clauses.push('f.host = ?');
    params.push(filter.host);
  }
  if (filter.agent) {
    clauses.push('f.agent = ?');
    params.push(filter.agent);
  }
  if (filter.category) {
    clauses.push('f.category = ?');
    params.push(filter.category);
  }
  if (filter.afterId !== undefined) {
    clauses.push('f.id > ?');
    params.push(filter.afterId);
  }
  if (filter.sinceMs !== undefined) {
    clauses.push('f.ts >= ?');
    params.push(filter.sinceMs);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** Reads of stored findings: queries, summaries and one finding with its event. */
export function createFindingsRepo(db: SqlDb): FindingsRepo {
  const groupCount = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM finding_groups');
  const getOne = db.prepare<[number], FindingRow>(`SELECT ${FINDING_ROW_COLUMNS} FROM findings f JOIN events e ON e.id = f.event_id WHERE f.id = ?`);
  // A second scan: host in the breakdown scan's GROUP BY multiplies its groups by the hosts (measured ~20× slower at
  // 100,000 findings on 1,000 hosts than this separate count).
  const openByHost = (w: { sql: string; params: unknown[] }): Record<string, number> => {
    const sql = `SELECT f.host AS host, count(*) AS n FROM findings f ${w.sql ? `${w.sql} AND` : 'WHERE'} f.status = 'open' GROUP BY f.host`;
    return Object.fromEntries(db.prepare<unknown[], { host: string; n: number }>(sql).all(...w.params).map((r) => [r.host, r.n]));
  };
  return {
    /** The newest `limit` findings matching, oldest first; with `afterId`, the oldest `limit` above it. */
    query(q: FindingQuery): StoredFinding[] {
      const w = findingWhere(q);
      const page =
        q.afterId !== undefined
          ? `SELECT f.id, f.event_id FROM findings f ${w.sql} ORDER BY f.id LIMIT ?`
          : `SELECT f.id, f.event_id FROM findings f ${w.sql} ORDER BY f.id DESC LIMIT ?`;
      const sql = `SELECT ${FINDING_ROW_COLUMNS} FROM (${page}) p JOIN findings f ON f.id = p.id JOIN events e ON e.id = p.event_id ORDER BY f.id`;
      return db.prepare<unknown[], FindingRow>(sql).all(...w.params, q.limit).map(findingFromRow);
    },
    /**
     * Counts by severity, category, agent and triage status, open findings by severity (and, with `openByHost`, by
     * host), and the number of fingerprint groups.
     */
    summary(filter: FindingFilter, opts: { openByHost?: boolean } = {}): FindingSummary {
      const w = findingWhere(filter);
      // One scan for the breakdowns.
      const rows = db
        .prepare<unknown[], { rank: number; category: string; agent: string; status: string; n: number }>(
          `SELECT f.severity_rank AS rank, f.category AS category, f.agent AS agent, f.status AS status, count(*) AS n
           FROM findings f ${w.sql} GROUP BY 1, 2, 3, 4`,
        )
        .all(...w.params);
      const zeros = (keys: readonly string[]): Record<string, number> => Object.fromEntries(keys.map((k) => [k, 0]));
      const bySeverity = zeros(SEVERITIES);
      const openBySeverity = zeros(SEVERITIES);
      const byStatus = zeros(TRIAGE_STATUSES);
      const byCategory: Record<string, number> = {};
      const byAgent: Record<string, number> = {};
      let total = 0;
      for (const r of rows) {
        const severity = SEVERITIES[SEVERITIES.length - 1 - r.rank] as string;
        bySeverity[severity] = (bySeverity[severity] ?? 0) + r.n;
        byCategory[r.category] = (byCategory[r.category] ?? 0) + r.n;
        byAgent[r.agent] = (byAgent[r.agent] ?? 0) + r.n;
        byStatus[r.status] = (byStatus[r.status] ?? 0) + r.n;
        if (r.status === 'open') openBySeverity[severity] = (openBySeverity[severity] ?? 0) + r.n;
        total += r.n;
      }
      // Unfiltered, every group has at least one finding: the groups table answers without a scan.
      const groups =
        w.sql === ''
          ? (groupCount.get()?.n ?? 0)
          : (db.prepare<unknown[], { n: number }>(`SELECT count(DISTINCT f.fingerprint) AS n FROM findings f ${w.sql}`).get(...w.params)?.n ?? 0);
      return {
        total, by_severity: bySeverity, by_category: byCategory, by_agent: byAgent, groups, by_status: byStatus, open_by_severity: openBySeverity,
        ...(opts.openByHost ? { open_by_host: openByHost(w) } : {}),
      };
    },
    /** One finding with its raw transcript event, or undefined. */
    get(id: number): FindingDetail | undefined {
      const row = getOne.get(id);
      return row ? { finding: findingFromRow(row), event: JSON.parse(row.event) as Record<string, unknown> } : undefined;
    },
  };
}
export type { FindingsRepo };
