import type { SqlDb } from './sql/sql-db.js';
import type { Ingest } from './store-contract.js';
import type { RunsRepo } from './runs.js';
import type { FeedRepo } from './feed.js';
import { createFindingGroups } from './finding-groups.js';
import type { EventRecord, RecordKey } from '../../protocol/tunnel.js';
import { runEndEventSchema } from '../../protocol/event.js';
import { severityRank, type StoredFinding } from '../../protocol/finding.js';
import type { RunView } from '../../protocol/api.js';
import { agentNameSchema, runTimeoutSchema } from '../../protocol/dispatch.js';
import { fingerprintFinding } from '../../protocol/fingerprint.js';
import { extractIndicators } from '../findings/indicators.js';
import { agentVersionOf, toStoredFinding, validateFindingFields } from '../findings/stored-finding.js';

/** What one ingest batch changed, for the live stream and waiters; published only after commit. */
export interface IngestResult {
  /** Every record of the batch: stored now, stored before (duplicate) or refused — all are safe to acknowledge (a refused one would be refused again). */
  acked: RecordKey[];
  stored: number;
  duplicates: number;
  /** Records refused because their run belongs to another host. */
  foreign: number;
  /** Records refused because the CP never dispatched their run and they do not start a tick of this host. */
  unknown: number;
  /** Each run whose records were refused, once, and why: acknowledged all the same, so the daimon's spool drains. */
  refused: RefusedRun[];
  /** Findings that failed their schema: kept in the transcript, not as findings. */
  invalidFindings: { key: RecordKey; reason: string }[];
  findings: { cursor: number; finding: StoredFinding }[];
  runs: { cursor: number; run: RunView }[];
  touchedRuns: Set<string>;
}

/** A run whose records an ingest refused: `unknown` (never dispatched, not a tick) or `foreign` (another host's). */
export interface RefusedRun {
  run_id: string;
  reason: 'unknown' | 'foreign';
}

/**
 * True when a record opens a run the daimon started by itself: a scheduled tick announces itself in its `run_start`
 * (`trigger: 'tick'`) and names a well-formed agent. Nothing else may bring a run into being.
 */
export function opensTick(record: EventRecord): boolean {
  return record.event.type === 'run_start' && record.event['trigger'] === 'tick' && agentNameSchema.safeParse(record.event.agent).success;
}

/** The records of one host to ingest. */
export interface IngestItem {
  hostname: string;
  records: readonly EventRecord[];
}

/**
 * Stores tunnel/bucket event records exactly once per (run, seq). A record is written once, as its transcript
 * event; a finding adds a small row referencing that event, its feed entry references the finding, and fingerprint
 * groups are written once per distinct fingerprint per transaction.
 */
export function createIngest(db: SqlDb, runs: RunsRepo, feed: FeedRepo): Ingest {
  // No row back: the (run, seq) was stored before (a duplicate).
  const insertEvent = db.prepare<[string, number, string], { id: number }>(
    'INSERT INTO events (run_id, seq, body) VALUES (?, ?, ?) ON CONFLICT (run_id, seq) DO NOTHING RETURNING id',
  );
  const runHost = db.prepare<[string], { host: string }>('SELECT host FROM runs WHERE run_id = ?');
  const insertFinding = db.prepare<unknown[], { id: number }>(
    `INSERT INTO findings (event_id, fingerprint, host, agent, ts, received_at, severity_rank, category, indicators)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  );
  const indicator = db.prepare('INSERT INTO finding_indicators (indicator, kind, finding_id, ts) VALUES (?, ?, ?, ?) ON CONFLICT (indicator, finding_id) DO NOTHING');
  const groups = createFindingGroups(db);

  const ingestBatch = (items: readonly IngestItem[], now: number): IngestResult[] => db.transaction((): IngestResult[] => {
    const counts = new Map<string, { events: number; findings: number }>();
    const statusChanged = new Map<string, IngestResult>();
    const owners = new Map<string, string>();
    const grouped = groups.batch();

    /** The host a record's run belongs to; undefined when the CP does not know the run and the record does not open a tick. */
    const ownerOf = (record: EventRecord, hostname: string): string | undefined => {
      const runId = record.run_id;
      let owner = owners.get(runId);
      if (owner !== undefined) return owner;
      owner = runHost.get(runId)?.host;
      if (owner === undefined) {
        if (!opensTick(record)) return undefined;
        // A tick the daimon started by itself (a scheduled monitor): the CP learns of it from its run_start, and the
        // run is bound to the host whose certificate brought it.
        runs.insert({
          run_id: runId, host: hostname, agent: record.event.agent, prompt: '', inputs: {},
          status: 'running', created_at: now, timeout_ms: 86_400_000, created_by: `daimon:${hostname}`,
        });
        owner = hostname;
      }
      owners.set(runId, owner);
      return owner;
    };

    const results = items.map(({ hostname, records }): IngestResult => {
      const result: IngestResult = {
        acked: [], stored: 0, duplicates: 0, foreign: 0, unknown: 0, refused: [], invalidFindings: [], findings: [], runs: [], touchedRuns: new Set(),
      };
      const refused = new Set<string>();
      for (const record of records) {
        const key = { run_id: record.run_id, seq: record.seq };
        result.acked.push(key);
        const owner = ownerOf(record, hostname);
        if (owner !== hostname) {
          const reason = owner === undefined ? 'unknown' : 'foreign';
          result[reason]++;
          if (!refused.has(record.run_id)) {
            refused.add(record.run_id);
            result.refused.push({ run_id: record.run_id, reason });
          }
          continue;
        }
        // The authenticated hostname and the record's identity win over whatever the body claims.
        const body = { ...record.event, host: hostname, run_id: record.run_id, seq: record.seq };
        const inserted = insertEvent.get(record.run_id, record.seq, JSON.stringify(body));
        if (inserted === undefined) {
          result.duplicates++;
          continue;
        }
        result.stored++;
        result.touchedRuns.add(record.run_id);
        let c = counts.get(record.run_id);
        if (c === undefined) counts.set(record.run_id, (c = { events: 0, findings: 0 }));
        c.events++;

        if (body.type === 'finding') {
          const valid = validateFindingFields(record.event);
          if (!valid.ok) {
            result.invalidFindings.push({ key, reason: valid.reason });
            continue;
          }
          const f = valid.fields;
          const fingerprint = fingerprintFinding(f);
          const found = extractIndicators(`${f.title}\n${f.evidence.join('\n')}\n${JSON.stringify(f.attributes)}`);
          const indicators = found.map((i) => `${i.kind}:${i.value}`);
          const { id } = insertFinding.get(
            inserted.id, fingerprint, hostname, body.agent, body.ts, now, severityRank(f.severity), f.category,
            indicators.length ? JSON.stringify(indicators) : '',
          ) as { id: number };
          for (const i of found) indicator.run(`${i.kind}:${i.value}`, i.kind, id, body.ts);
          grouped.add({ id, fingerprint, severity: f.severity, title: f.title, category: f.category, agent: body.agent, host: hostname, ts: body.ts });
          const stamp = { host: hostname, agent: body.agent, agent_version: agentVersionOf(record.event), run_id: record.run_id, seq: record.seq, ts: body.ts };
          const finding = toStoredFinding(f, stamp, { id, fingerprint, received_at: now, status: 'open', indicators });
          result.findings.push({ cursor: feed.appendFinding(now, id), finding });
          c.findings++;
        } else if (body.type === 'run_start') {
          // The host says which timeout the run is under (the agent file's own when the operator set none).
          const timeout = runTimeoutSchema.safeParse((body as { timeout_ms?: unknown }).timeout_ms);
          if (timeout.success) runs.setTimeoutMs(record.run_id, timeout.data);
          if (runs.transition(record.run_id, 'running', now)) statusChanged.set(record.run_id, result);
        } else if (body.type === 'run_end') {
          const end = runEndEventSchema.safeParse(body);
          const status = end.success ? end.data.status : 'failed';
          const error = end.success ? end.data.error : 'run_end event was malformed';
          if (runs.transition(record.run_id, status, now, error)) statusChanged.set(record.run_id, result);
        }
      }
      return result;
    });

    grouped.write();
    for (const [runId, c] of counts) runs.addCounts(runId, c.events, c.findings);
    for (const [runId, result] of statusChanged) {
      const run = runs.get(runId);
      if (run) result.runs.push({ cursor: feed.append(now, 'run', run), run });
    }
    return results;
  })();

  return {
    /** Ingests the items in one transaction; throws only on a storage failure (then nothing was written and nothing is acked). */
    ingestBatch(items: readonly IngestItem[], now: number): IngestResult[] {
      return ingestBatch(items, now);
    },
    /** Ingests one host's batch atomically. */
    ingest(hostname: string, records: readonly EventRecord[], now: number): IngestResult {
      return ingestBatch([{ hostname, records }], now)[0] as IngestResult;
    },
  };
}
export type { Ingest };
