import type { Db } from './database.js';
import type { FindingFilter, FindingSummary } from '../../protocol/api.js';
import { SEVERITIES, severityRank, type StoredFinding } from '../../protocol/finding.js';

/** Query options on top of a filter. */
export interface FindingQuery extends FindingFilter {
  sinceMs?: number;
  /** Page oldest first: only findings with a larger id. */
  afterId?: number;
  limit: number;
}

function where(filter: FindingFilter & { sinceMs?: number; afterId?: number }): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.severity) {
    clauses.push('severity_rank >= ?');
    params.push(severityRank(filter.severity));
  }
  if (filter.host) {
    clauses.push('host = ?');
    params.push(filter.host);
  }
  if (filter.agent) {
    clauses.push('agent = ?');
    params.push(filter.agent);
  }
  if (filter.category) {
    clauses.push('category = ?');
    params.push(filter.category);
  }
  if (filter.afterId !== undefined) {
    clauses.push('id > ?');
    params.push(filter.afterId);
  }
  if (filter.sinceMs !== undefined) {
    clauses.push('ts >= ?');
    params.push(filter.sinceMs);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** Reads of stored findings: queries and summaries. */
export function createFindingsRepo(db: Db) {
  return {
    /** The newest `limit` findings matching, oldest first; with `afterId`, the oldest `limit` above it. */
    query(q: FindingQuery): StoredFinding[] {
      const w = where(q);
      const sql =
        q.afterId !== undefined
          ? `SELECT body FROM findings ${w.sql} ORDER BY id LIMIT ?`
          : `SELECT body FROM (SELECT id, body FROM findings ${w.sql} ORDER BY id DESC LIMIT ?) ORDER BY id`;
      const rows = db.prepare<unknown[], { body: string }>(sql).all(...w.params, q.limit);
      return rows.map((r) => JSON.parse(r.body) as StoredFinding);
    },
    /** Counts by severity, category and agent, and the number of fingerprint groups. */
    summary(filter: FindingFilter): FindingSummary {
      const w = where(filter);
      const count = (col: string): Record<string, number> => {
        const rows = db.prepare<unknown[], { k: string; n: number }>(`SELECT ${col} AS k, count(*) AS n FROM findings ${w.sql} GROUP BY ${col}`).all(...w.params);
        return Object.fromEntries(rows.map((r) => [r.k, r.n]));
      };
      const bySeverity = count('severity');
      const total = Object.values(bySeverity).reduce((a, b) => a + b, 0);
      const groups = db.prepare<unknown[], { n: number }>(`SELECT count(DISTINCT fingerprint) AS n FROM findings ${w.sql}`).get(...w.params)?.n ?? 0;
      return {
        total,
        by_severity: Object.fromEntries(SEVERITIES.map((s) => [s, bySeverity[s] ?? 0])),
        by_category: count('category'),
        by_agent: count('agent'),
        groups,
      };
    },
  };
}
/** The findings repository. */
export type FindingsRepo = ReturnType<typeof createFindingsRepo>;
