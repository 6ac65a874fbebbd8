import type { Db } from './database.js';
import type { RunsRepo } from './runs.js';
import type { FeedRepo } from './feed.js';
import type { EventRecord, RecordKey } from '../../protocol/tunnel.js';
import { findingEventSchema, runEndEventSchema } from '../../protocol/event.js';
import { severityRank, type StoredFinding } from '../../protocol/finding.js';
import type { RunView } from '../../protocol/api.js';
import { fingerprintFinding } from '../findings/fingerprint.js';
import { extractIndicators } from '../findings/indicators.js';

/** What one ingest batch changed, for the live stream and waiters; published only after commit. */
export interface IngestResult {
  /** Every record of the batch: stored now, stored before (duplicate) or refused — all are safe to acknowledge. */
  acked: RecordKey[];
  stored: number;
  duplicates: number;
  /** Records refused because their run belongs to another host. */
  foreign: number;
  /** Findings that failed their schema: kept in the transcript, not as findings. */
  invalidFindings: { key: RecordKey; reason: string }[];
  findings: { cursor: number; finding: StoredFinding }[];
  runs: { cursor: number; run: RunView }[];
  touchedRuns: Set<string>;
}

/** Stores tunnel/bucket event records exactly once per (run, seq), with findings, groups and the feed, in one transaction. */
export function createIngest(db: Db, runs: RunsRepo, feed: FeedRepo) {
  const insertEvent = db.prepare('INSERT OR IGNORE INTO events (run_id, seq, host, type, ts, body) VALUES (?, ?, ?, ?, ?, ?)');
  const runHost = db.prepare<[string], { host: string }>('SELECT host FROM runs WHERE run_id = ?');
  const insertFinding = db.prepare(
    `INSERT INTO findings (fingerprint, host, agent, agent_version, run_id, seq, ts, received_at, severity, severity_rank, title, category, resource, dedup_key, body)
     VALUES (@fingerprint, @host, @agent, @agent_version, @run_id, @seq, @ts, @received_at, @severity, @severity_rank, @title, @category, @resource, @dedup_key, '')`,
  );
  const setFindingBody = db.prepare('UPDATE findings SET body = ? WHERE id = ?');
  const upsertGroup = db.prepare(
    `INSERT INTO finding_groups (fingerprint, severity, title, category, agent, count, first_seen, last_seen, last_finding_id)
     VALUES (@fingerprint, @severity, @title, @category, @agent, 1, @ts, @ts, @id)
     ON CONFLICT (fingerprint) DO UPDATE SET count = count + 1, last_seen = max(last_seen, @ts), last_finding_id = @id`,
  );
  const groupHost = db.prepare('INSERT OR IGNORE INTO finding_group_hosts (fingerprint, host) VALUES (?, ?)');
  const indicator = db.prepare('INSERT OR IGNORE INTO finding_indicators (indicator, kind, finding_id, ts) VALUES (?, ?, ?, ?)');

  const storeFinding = (base: Omit<StoredFinding, 'id' | 'fingerprint' | 'indicators'>, now: number): { cursor: number; finding: StoredFinding } => {
    const fingerprint = fingerprintFinding(base);
    const indicators = extractIndicators([base.title, ...base.evidence, JSON.stringify(base.attributes)].join('\n'));
    const id = Number(
      insertFinding.run({ ...base, fingerprint, severity_rank: severityRank(base.severity) }).lastInsertRowid,
    );
    const finding: StoredFinding = { id, fingerprint, ...base, indicators: indicators.map((i) => `${i.kind}:${i.value}`) };
    setFindingBody.run(JSON.stringify(finding), id);
    upsertGroup.run({ fingerprint, severity: base.severity, title: base.title, category: base.category, agent: base.agent, ts: base.ts, id });
    groupHost.run(fingerprint, base.host);
    for (const i of indicators) indicator.run(`${i.kind}:${i.value}`, i.kind, id, base.ts);
    return { cursor: feed.append(now, 'finding', finding), finding };
  };

  const ingest = db.transaction((hostname: string, records: readonly EventRecord[], now: number): IngestResult => {
    const result: IngestResult = { acked: [], stored: 0, duplicates: 0, foreign: 0, invalidFindings: [], findings: [], runs: [], touchedRuns: new Set() };
    const counts = new Map<string, { events: number; findings: number }>();
    const statusChanged = new Set<string>();
    const ownerCache = new Map<string, string | undefined>();

    for (const record of records) {
      const key = { run_id: record.run_id, seq: record.seq };
      result.acked.push(key);
      let owner = ownerCache.get(record.run_id);
      if (!ownerCache.has(record.run_id)) {
        owner = runHost.get(record.run_id)?.host;
        if (owner === undefined) {
          // A run the daimon started by itself (a scheduled monitor): the CP learns of it from its events.
          runs.insert({
            run_id: record.run_id, host: hostname, agent: record.event.agent, prompt: '', inputs: {},
            status: 'running', created_at: now, timeout_ms: 86_400_000, created_by: `daimon:${hostname}`,
          });
          owner = hostname;
        }
        ownerCache.set(record.run_id, owner);
      }
      if (owner !== hostname) {
        result.foreign++;
        continue;
      }
      // The authenticated hostname and the record's identity win over whatever the body claims.
      const body = { ...record.event, host: hostname, run_id: record.run_id, seq: record.seq };
      const inserted = insertEvent.run(record.run_id, record.seq, hostname, body.type, Math.trunc(body.ts), JSON.stringify(body)).changes > 0;
      if (!inserted) {
        result.duplicates++;
        continue;
      }
      result.stored++;
      result.touchedRuns.add(record.run_id);
      const c = counts.get(record.run_id) ?? { events: 0, findings: 0 };
      c.events++;
      counts.set(record.run_id, c);

      if (body.type === 'finding') {
        const parsed = findingEventSchema.safeParse(body);
        if (!parsed.success) {
          result.invalidFindings.push({ key, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
          continue;
        }
        const f = parsed.data;
        const rawVersion = (record.event as Record<string, unknown>)['agent_version'];
        const agentVersion = typeof rawVersion === 'string' ? rawVersion : '';
        result.findings.push(
          storeFinding(
            {
              severity: f.severity, title: f.title, category: f.category, resource: f.resource, evidence: f.evidence,
              dedup_key: f.dedup_key, recommended_action: f.recommended_action, tags: f.tags, attributes: f.attributes,
              host: hostname, agent: record.event.agent, agent_version: agentVersion, run_id: record.run_id, seq: record.seq,
              ts: body.ts, received_at: now, status: 'open',
            },
            now,
          ),
        );
        c.findings++;
      } else if (body.type === 'run_start') {
        if (runs.transition(record.run_id, 'running', now)) statusChanged.add(record.run_id);
      } else if (body.type === 'run_end') {
        const end = runEndEventSchema.safeParse(body);
        const status = end.success ? end.data.status : 'failed';
        const error = end.success ? end.data.error : 'run_end event was malformed';
        if (runs.transition(record.run_id, status, now, error)) statusChanged.add(record.run_id);
      }
    }
    for (const [runId, c] of counts) runs.addCounts(runId, c.events, c.findings);
    for (const runId of statusChanged) {
      const run = runs.get(runId);
      if (run) result.runs.push({ cursor: feed.append(now, 'run', run), run });
    }
    return result;
  });

  return {
    /** Ingests one batch atomically; throws only on a storage failure (then nothing was written and nothing is acked). */
    ingest(hostname: string, records: readonly EventRecord[], now: number): IngestResult {
      return ingest(hostname, records, now);
    },
  };
}
/** The ingest unit of the store. */
export type Ingest = ReturnType<typeof createIngest>;
