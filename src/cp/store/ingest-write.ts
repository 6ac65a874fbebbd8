import type { SqlDb } from './sql/sql-db.js';
import { sqliteInsertedId } from './sql/sqlite-db.js';
import type { RunsRepo } from './runs.js';
import type { FeedRepo } from './feed.js';
import { createFindingGroups } from './finding-groups.js';
import { RecordKind, RecordStatus, type IngestOutcome, type IngestPlan } from './ingest-plan.js';

/** Step 2 of an ingest (see ingest-plan.ts): the SQL, and nothing else, so it can run on a thread of its own. */
export interface IngestWriter {
  /** Writes a planned batch; call inside a transaction. Throws on a storage failure (then the caller rolls back). */
  write(plan: IngestPlan, now: number): IngestOutcome;
}

/**
 * Stores a planned batch exactly once per (run, seq). A record is written once, as its transcript event; a finding
 * adds a small row referencing that event, its feed entry references the finding, and fingerprint groups are written
 * once per distinct fingerprint per transaction.
 * Each kind of row is written per batch: one statement per chunk on Postgres (arrays as named parameters, inserted
 * in the order given), one prepared statement per row on SQLite, where a statement costs microseconds.
 */
export function createIngestWriter(db: SqlDb, runs: RunsRepo, feed: FeedRepo): IngestWriter {
  const pg = db.dialect === 'postgres';
  // SQLite: no RETURNING (see sqliteInsertedId); changes = 0 when the (run, seq) was stored before.
  const insertEvent = db.prepare<[string, number, string]>('INSERT INTO events (run_id, seq, body) VALUES (?, ?, ?) ON CONFLICT (run_id, seq) DO NOTHING');
  // No row back: the (run, seq) was stored before (a duplicate).
  const insertEventBatch = pg
    ? db.prepare<[{ run_ids: string[]; seqs: number[]; bodies: string[] }], { id: number; run_id: string; seq: number }>(
        `INSERT INTO events (run_id, seq, body)
         SELECT r, s, b FROM unnest(CAST(@run_ids AS TEXT[]), CAST(@seqs AS BIGINT[]), CAST(@bodies AS TEXT[])) WITH ORDINALITY AS t(r, s, b, n) ORDER BY n
         ON CONFLICT (run_id, seq) DO NOTHING RETURNING id, run_id, seq`,
      )
    : undefined;
  const runHost = db.prepare<[string], { host: string }>('SELECT host FROM runs WHERE run_id = ?');
  const insertFinding = db.prepare(
    `INSERT INTO findings (event_id, fingerprint, host, agent, ts, received_at, severity_rank, category, indicators)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertFindingBatch = pg
    ? db.prepare<[Record<string, unknown[]>], { id: number; event_id: number }>(
        `INSERT INTO findings (event_id, fingerprint, host, agent, ts, received_at, severity_rank, category, indicators)
         SELECT * FROM unnest(CAST(@event_id AS BIGINT[]), CAST(@fingerprint AS TEXT[]), CAST(@host AS TEXT[]), CAST(@agent AS TEXT[]),
           CAST(@ts AS BIGINT[]), CAST(@received_at AS BIGINT[]), CAST(@severity_rank AS BIGINT[]), CAST(@category AS TEXT[]), CAST(@indicators AS TEXT[]))
         RETURNING id, event_id`,
      )
    : undefined;
  const indicator = db.prepare('INSERT INTO finding_indicators (indicator, kind, finding_id, ts) VALUES (?, ?, ?, ?) ON CONFLICT (indicator, finding_id) DO NOTHING');
  const indicatorBatch = pg
    ? db.prepare<[Record<string, unknown[]>]>(
        `INSERT INTO finding_indicators (indicator, kind, finding_id, ts)
         SELECT * FROM unnest(CAST(@indicator AS TEXT[]), CAST(@kind AS TEXT[]), CAST(@finding_id AS BIGINT[]), CAST(@ts AS BIGINT[]))
         ON CONFLICT (indicator, finding_id) DO NOTHING`,
      )
    : undefined;
  const CHUNK = 5000;
  const chunks = <T>(rows: readonly T[]): T[][] => {
    const out: T[][] = [];
    for (let i = 0; i < rows.length; i += CHUNK) out.push(rows.slice(i, i + CHUNK));
    return out;
  };
  /** Stores transcript events; for each row its new id, or undefined when its (run, seq) was stored before. */
  const insertEvents = (rows: ReadonlyArray<{ run_id: string; seq: number; body: string }>): Array<number | undefined> => {
    if (!insertEventBatch) return rows.map((r) => sqliteInsertedId(insertEvent.run(r.run_id, r.seq, r.body)));
    const ids = new Map<string, number>();
    for (const chunk of chunks(rows)) {
      for (const r of insertEventBatch.all({ run_ids: chunk.map((c) => c.run_id), seqs: chunk.map((c) => c.seq), bodies: chunk.map((c) => c.body) })) {
        ids.set(`${r.run_id}\u0000${r.seq}`, r.id);
      }
    }
    // A (run, seq) twice in one batch is inserted once: only its first row gets the id, as one row at a time would.
    return rows.map((r) => {
      const key = `${r.run_id}\u0000${r.seq}`;
      const id = ids.get(key);
      ids.delete(key);
      return id;
    });
  };
  type FindingRowIn = { event_id: number; fingerprint: string; host: string; agent: string; ts: number; received_at: number; severity_rank: number; category: string; indicators: string };
  /** Stores finding rows; their ids, in the order given. */
  const insertFindings = (rows: readonly FindingRowIn[]): number[] => {
    if (!insertFindingBatch) {
      return rows.map((r) => sqliteInsertedId(insertFinding.run(r.event_id, r.fingerprint, r.host, r.agent, r.ts, r.received_at, r.severity_rank, r.category, r.indicators)) as number);
    }
    const byEvent = new Map<number, number>();
    for (const chunk of chunks(rows)) {
      const columns = Object.fromEntries((Object.keys(chunk[0] ?? {}) as Array<keyof FindingRowIn>).map((k) => [k, chunk.map((r) => r[k])]));
      for (const r of insertFindingBatch.all(columns)) byEvent.set(r.event_id, r.id);
    }
    return rows.map((r) => byEvent.get(r.event_id) as number);
  };
  const insertIndicators = (rows: ReadonlyArray<{ indicator: string; kind: string; finding_id: number; ts: number }>): void => {
    if (!indicatorBatch) {
      for (const r of rows) indicator.run(r.indicator, r.kind, r.finding_id, r.ts);
      return;
    }
    for (const chunk of chunks(rows)) {
      indicatorBatch.run({ indicator: chunk.map((r) => r.indicator), kind: chunk.map((r) => r.kind), finding_id: chunk.map((r) => r.finding_id), ts: chunk.map((r) => r.ts) });
    }
  };
  const groups = createFindingGroups(db);

  const write = (plan: IngestPlan, now: number): IngestOutcome => {
    const n = plan.runIds.length;
    // The item of each record (records are numbered across items in order).
    const itemOf: number[] = [];
    plan.counts.forEach((count, item) => {
      for (let k = 0; k < count; k++) itemOf.push(item);
    });
    const tickAgent = new Map<number, string>();
    for (const r of plan.runRecords) if (r.tickAgent !== null) tickAgent.set(r.record, r.tickAgent);
    const owners = new Map<string, string>();

    /** The host a record's run belongs to; undefined when the CP does not know the run and the record does not open a tick. */
    const ownerOf = (i: number, hostname: string): string | undefined => {
      const runId = plan.runIds[i] as string;
      let owner = owners.get(runId);
      if (owner !== undefined) return owner;
      owner = runHost.get(runId)?.host;
      if (owner === undefined) {
        const agent = tickAgent.get(i);
        if (agent === undefined) return undefined;
        // A tick the daimon started by itself (a scheduled monitor): the CP learns of it from its run_start, and the
        // run is bound to the host whose certificate brought it.
        runs.insert({
          run_id: runId, host: hostname, agent, prompt: '', inputs: {},
          status: 'running', created_at: now, timeout_ms: 86_400_000, created_by: `daimon:${hostname}`,
        });
        owner = hostname;
      }
      owners.set(runId, owner);
      return owner;
    };

    // Phase 1: who may write what; owned records become candidates.
    const status: IngestOutcome['status'] = new Array<IngestOutcome['status'][number]>(n);
    const candidates: number[] = [];
    for (let i = 0; i < n; i++) {
      const hostname = plan.hosts[itemOf[i] as number] as string;
      const owner = ownerOf(i, hostname);
      if (owner !== hostname) {
        status[i] = owner === undefined ? RecordStatus.Unknown : RecordStatus.Foreign;
        continue;
      }
      candidates.push(i);
    }

    // Phase 2: the transcript events, in record order; a (run, seq) stored before (or earlier in this batch) gets no id.
    const eventIds = insertEvents(candidates.map((i) => ({ run_id: plan.runIds[i] as string, seq: plan.seqs[i] as number, body: plan.bodies[i] as string })));
    const eventId = new Map<number, number>();
    const counts = new Map<string, { events: number; findings: number }>();
    candidates.forEach((i, k) => {
      const id = eventIds[k];
      if (id === undefined) {
        status[i] = RecordStatus.Duplicate;
        return;
      }
      status[i] = RecordStatus.Stored;
      eventId.set(i, id);
      const runId = plan.runIds[i] as string;
      let c = counts.get(runId);
      if (c === undefined) counts.set(runId, (c = { events: 0, findings: 0 }));
      c.events++;
      if (plan.kinds[i] === RecordKind.Finding) c.findings++;
    });

    // Phase 3: what each stored run_start / run_end changes, in record order.
    const statusChanged = new Map<string, number>();
    const started: number[] = [];
    for (const r of plan.runRecords) {
      if (status[r.record] !== RecordStatus.Stored) continue;
      const runId = plan.runIds[r.record] as string;
      const item = itemOf[r.record] as number;
      if (r.end === null) {
        // The host says which timeout the run is under (the agent file's own when the operator set none).
        if (r.timeoutMs !== null) runs.setTimeoutMs(runId, r.timeoutMs);
        if (runs.transition(runId, 'running', now)) {
          statusChanged.set(runId, item);
          started.push(item);
        }
      } else if (runs.transition(runId, r.end.status, now, r.end.error)) {
        statusChanged.set(runId, item);
      }
    }

    // Phase 4: the findings, their indicators, groups and feed entries, in record order.
    const f = plan.f;
    const stored: number[] = []; // indices into plan.f of the findings stored now
    const indicatorFrom: number[] = [];
    let from = 0;
    f.record.forEach((r, k) => {
      indicatorFrom.push(from);
      from += f.indicatorCount[k] as number;
      if (status[r] === RecordStatus.Stored) stored.push(k);
    });
    const findingIds = insertFindings(stored.map((k) => {
      const r = f.record[k] as number;
      return {
        event_id: eventId.get(r) as number, fingerprint: f.fingerprint[k] as string, host: plan.hosts[itemOf[r] as number] as string, agent: f.agent[k] as string,
        ts: f.ts[k] as number, received_at: now, severity_rank: f.severityRank[k] as number, category: f.category[k] as string, indicators: f.indicatorsJson[k] as string,
      };
    }));
    const indicatorRows: Array<{ indicator: string; kind: string; finding_id: number; ts: number }> = [];
    stored.forEach((k, j) => {
      const at = indicatorFrom[k] as number;
      for (let x = 0; x < (f.indicatorCount[k] as number); x++) {
        indicatorRows.push({ indicator: f.indicatorKeys[at + x] as string, kind: f.indicatorKinds[at + x] as string, finding_id: findingIds[j] as number, ts: f.ts[k] as number });
      }
    });
    insertIndicators(indicatorRows);
    const cursors = feed.appendFindings(now, findingIds);
    const grouped = groups.batch();
    stored.forEach((k, j) => {
      const r = f.record[k] as number;
      grouped.add({
        id: findingIds[j] as number, fingerprint: f.fingerprint[k] as string, severity: f.severity[k] as string, title: f.title[k] as string,
        category: f.category[k] as string, agent: f.agent[k] as string, host: plan.hosts[itemOf[r] as number] as string, ts: f.ts[k] as number,
      });
    });
    grouped.write();

    for (const [runId, c] of counts) runs.addCounts(runId, c.events, c.findings);
    const changedRuns: IngestOutcome['runs'] = [];
    for (const [runId, item] of statusChanged) {
      const run = runs.get(runId);
      if (run) changedRuns.push({ item, cursor: feed.append(now, 'run', run), run });
    }
    return { status, findingIds, cursors, started, runs: changedRuns };
  };
  return { write };
}
