import type { EventRecord } from '../../protocol/tunnel.js';
import { runEndEventSchema } from '../../protocol/event.js';
import { severityRank, type FindingFields } from '../../protocol/finding.js';
import type { RunView } from '../../protocol/api.js';
import { agentNameSchema, runTimeoutSchema } from '../../protocol/dispatch.js';
import { fingerprintFinding } from '../../protocol/fingerprint.js';
import { extractIndicators } from '../findings/indicators.js';
import { agentVersionOf, toStoredFinding, validateFindingFields } from '../findings/stored-finding.js';
import type { IngestItem, IngestResult } from './ingest.js';

/*
 * An ingest batch in three steps, so the SQL can run on another thread than the rest:
 * 1. `planIngest` (no store): every record's stored body, what it means (finding fields validated, fingerprinted,
 *    indicators extracted; run_start/run_end parsed) — as flat arrays of strings and numbers, cheap to post;
 * 2. `IngestWriter.write(plan)` (ingest-write.ts, SQL only, inside the transaction): who owns each run, which rows are
 *    new, the ids and feed cursors — again flat arrays;
 * 3. `assembleResults` (no store): the IngestResult of each item from the records, the plan and the outcome.
 */

/** What a record is, for the writer. */
export const RecordKind = { Other: 0, Finding: 1, InvalidFinding: 2, RunStart: 3, RunEnd: 4 } as const;
/** One of RecordKind. */
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** What the writer did with a record. */
export const RecordStatus = { Stored: 0, Duplicate: 1, Unknown: 2, Foreign: 3 } as const;
/** One of RecordStatus. */
export type RecordStatus = (typeof RecordStatus)[keyof typeof RecordStatus];

/** A run_start or run_end record: what it changes in its run. */
export interface RunRecordPlan {
  /** Index of the record in the plan. */
  record: number;
  /** The agent of a `run_start` that opens a tick (the CP may learn of the run from it), else null. */
  tickAgent: string | null;
  /** run_start: the timeout the host says the run is under (null when absent or malformed). */
  timeoutMs: number | null;
  /** run_end: the status and error it ends the run with. */
  end: { status: RunView['status']; error: string | undefined } | null;
}

/** One batch, ready to write: what crosses to the writer's thread (structured clone), arrays of plain values. */
export interface IngestPlan {
  hosts: string[];
  /** Records per item, in item order: record i belongs to the item whose range holds i. */
  counts: number[];
  runIds: string[];
  seqs: number[];
  bodies: string[];
  kinds: RecordKind[];
  runRecords: RunRecordPlan[];
  /** The valid findings, in record order, as columns. */
  f: {
    record: number[];
    fingerprint: string[];
    agent: string[];
    ts: number[];
    severity: string[];
    severityRank: number[];
    title: string[];
    category: string[];
    /** The indicator keys as the findings row stores them (a JSON array, '' for none). */
    indicatorsJson: string[];
    /** Per finding, how many of `indicatorKeys`/`indicatorKinds` are its own (in order). */
    indicatorCount: number[];
    indicatorKeys: string[];
    indicatorKinds: string[];
  };
}

/** What the writer answers: flat again. */
export interface IngestOutcome {
  status: RecordStatus[];
  /** Ids and feed cursors of the valid findings that were stored (status Stored), in plan order. */
  findingIds: number[];
  cursors: number[];
  /** Items (indices) whose run_start started a run, one entry per start. */
  started: number[];
  /** Runs whose status changed: their view and feed cursor, told to the item whose record changed it last. */
  runs: Array<{ item: number; cursor: number; run: RunView }>;
}

/** What stays on the planning side: the parsed finding fields (for the stored finding) and why findings were invalid. */
export interface PlanLocal {
  fields: FindingFields[];
  /** Each valid finding's indicator keys. */
  keys: string[][];
  invalid: Map<number, string>;
}

/**
 * True when a record opens a run the daimon started by itself: a scheduled tick announces itself in its `run_start`
 * (`trigger: 'tick'`) and names a well-formed agent. Nothing else may bring a run into being.
 */
export function opensTick(record: EventRecord): boolean {
  return record.event.type === 'run_start' && record.event['trigger'] === 'tick' && agentNameSchema.safeParse(record.event.agent).success;
}

/**
 * The transcript event as stored: the event's JSON with the authenticated hostname and the record's identity, which
 * win over whatever the body claims — the text of `JSON.stringify({ ...event, host, run_id, seq })`. Built by appending
 * to the event's own JSON when it has none of those keys (the usual case): JSON.stringify of the spread copy cost
 * ~5.8 µs per finding against ~1.1 µs for the event alone (the copy is a slow-mode object), 11 % of the CP's CPU per
 * finding in the ingest suite.
 */
export function stampedBody(record: EventRecord, hostname: string): string {
  const event = record.event;
  if (Object.hasOwn(event, 'host') || Object.hasOwn(event, 'run_id') || Object.hasOwn(event, 'seq')) {
    return JSON.stringify({ ...event, host: hostname, run_id: record.run_id, seq: record.seq });
  }
  const own = JSON.stringify(event);
  return `${own.slice(0, -1)}${own.length > 2 ? ',' : ''}"host":${JSON.stringify(hostname)},"run_id":${JSON.stringify(record.run_id)},"seq":${JSON.stringify(record.seq)}}`;
}

const emptyPlan = (): PlannedBatch => ({
  plan: {
    hosts: [], counts: [], runIds: [], seqs: [], bodies: [], kinds: [], runRecords: [],
    f: { record: [], fingerprint: [], agent: [], ts: [], severity: [], severityRank: [], title: [], category: [], indicatorsJson: [], indicatorCount: [], indicatorKeys: [], indicatorKinds: [] },
  },
  local: { fields: [], keys: [], invalid: new Map() },
});

/** Step 1: the plan of a batch, and what the planning side keeps for step 3. Reads nothing from the store. */
export function planIngest(items: readonly IngestItem[]): PlannedBatch {
  const { plan, local } = emptyPlan();
  const f = plan.f;
  for (const { hostname, records } of items) {
    plan.hosts.push(hostname);
    plan.counts.push(records.length);
    for (const record of records) {
      const i = plan.runIds.length;
      const body = record.event;
      plan.runIds.push(record.run_id);
      plan.seqs.push(record.seq);
      plan.bodies.push(stampedBody(record, hostname));
      if (body.type === 'finding') {
        const valid = validateFindingFields(body);
        if (!valid.ok) {
          plan.kinds.push(RecordKind.InvalidFinding);
          local.invalid.set(i, valid.reason);
          continue;
        }
        plan.kinds.push(RecordKind.Finding);
        const fields = valid.fields;
        local.fields.push(fields);
        const indicators = extractIndicators(`${fields.title}\n${fields.evidence.join('\n')}\n${JSON.stringify(fields.attributes)}`);
        f.record.push(i);
        f.fingerprint.push(fingerprintFinding(fields));
        f.agent.push(body.agent);
        f.ts.push(body.ts);
        f.severity.push(fields.severity);
        f.severityRank.push(severityRank(fields.severity));
        f.title.push(fields.title);
        f.category.push(fields.category);
        f.indicatorCount.push(indicators.length);
        const keys = indicators.map((ind) => `${ind.kind}:${ind.value}`);
        local.keys.push(keys);
        f.indicatorsJson.push(keys.length ? JSON.stringify(keys) : '');
        for (const [k, ind] of indicators.entries()) {
          f.indicatorKeys.push(keys[k] as string);
          f.indicatorKinds.push(ind.kind);
        }
      } else if (body.type === 'run_start') {
        plan.kinds.push(RecordKind.RunStart);
        const timeout = runTimeoutSchema.safeParse((body as { timeout_ms?: unknown }).timeout_ms);
        plan.runRecords.push({ record: i, tickAgent: opensTick(record) ? body.agent : null, timeoutMs: timeout.success ? timeout.data : null, end: null });
      } else if (body.type === 'run_end') {
        plan.kinds.push(RecordKind.RunEnd);
        const end = runEndEventSchema.safeParse({ ...body, host: hostname, run_id: record.run_id, seq: record.seq });
        plan.runRecords.push({
          record: i, tickAgent: null, timeoutMs: null,
          end: end.success ? { status: end.data.status, error: end.data.error } : { status: 'failed', error: 'run_end event was malformed' },
        });
      } else {
        plan.kinds.push(RecordKind.Other);
      }
    }
  }
  return { plan, local };
}

/** Step 3: each item's IngestResult, from its records, the plan and what the writer did. */
export function assembleResults(items: readonly IngestItem[], plan: IngestPlan, local: PlanLocal, outcome: IngestOutcome, now: number): IngestResult[] {
  const results: IngestResult[] = [];
  let i = 0;
  for (const { records } of items) {
    const result: IngestResult = {
      acked: [], stored: 0, duplicates: 0, foreign: 0, unknown: 0, refused: [], invalidFindings: [], findings: [], runs: [], touchedRuns: new Set(), started: 0,
    };
    const refused = new Set<string>();
    for (const record of records) {
      result.acked.push({ run_id: record.run_id, seq: record.seq });
      const status = outcome.status[i] as RecordStatus;
      if (status === RecordStatus.Stored) {
        result.stored++;
        result.touchedRuns.add(record.run_id);
        const reason = local.invalid.get(i);
        if (reason !== undefined) result.invalidFindings.push({ key: { run_id: record.run_id, seq: record.seq }, reason });
      } else if (status === RecordStatus.Duplicate) {
        result.duplicates++;
      } else {
        const reason = status === RecordStatus.Unknown ? 'unknown' : 'foreign';
        result[reason]++;
        if (!refused.has(record.run_id)) {
          refused.add(record.run_id);
          result.refused.push({ run_id: record.run_id, reason });
        }
      }
      i++;
    }
    results.push(result);
  }
  // The stored findings, in record order: the writer's ids and cursors follow the plan's findings that were stored.
  let item = 0;
  let itemEnd = plan.counts[0] ?? 0;
  let n = 0;
  plan.f.record.forEach((r, k) => {
    if (outcome.status[r] !== RecordStatus.Stored) return;
    while (r >= itemEnd) itemEnd += plan.counts[++item] ?? 0;
    const hostname = plan.hosts[item] as string;
    const record = (items[item] as IngestItem).records[r - (itemEnd - (plan.counts[item] as number))] as EventRecord;
    const keys = local.keys[k] as string[];
    const stamp = { host: hostname, agent: record.event.agent, agent_version: agentVersionOf(record.event), run_id: record.run_id, seq: record.seq, ts: record.event.ts };
    const finding = toStoredFinding(local.fields[k] as FindingFields, stamp, { id: outcome.findingIds[n] as number, fingerprint: plan.f.fingerprint[k] as string, received_at: now, status: 'open', indicators: keys });
    (results[item] as IngestResult).findings.push({ cursor: outcome.cursors[n] as number, finding });
    n++;
  });
  for (const s of outcome.started) (results[s] as IngestResult).started++;
  for (const { item: at, cursor, run } of outcome.runs) (results[at] as IngestResult).runs.push({ cursor, run });
  return results;
}

/** A planned batch and what its planning side keeps. */
export interface PlannedBatch {
  plan: IngestPlan;
  local: PlanLocal;
}

/**
 * One plan of several, in order, as `planIngest` of their items together would make it: lets the CP plan each
 * arriving frame at once (while the ingest thread writes the previous commit) and post the group later.
 */
export function mergePlans(parts: readonly PlannedBatch[]): PlannedBatch {
  if (parts.length === 1) return parts[0] as PlannedBatch;
  const { plan, local } = emptyPlan();
  // Plain loops of push: flatMap with a callback per column cost ~1.7 µs per record on the main thread.
  const append = <T>(to: T[], from: readonly T[]): void => {
    for (let i = 0; i < from.length; i++) to.push(from[i] as T);
  };
  const f = plan.f;
  for (const part of parts) {
    const p = part.plan;
    const offset = plan.runIds.length;
    append(plan.hosts, p.hosts);
    append(plan.counts, p.counts);
    append(plan.runIds, p.runIds);
    append(plan.seqs, p.seqs);
    append(plan.bodies, p.bodies);
    append(plan.kinds, p.kinds);
    for (const r of p.runRecords) plan.runRecords.push({ ...r, record: r.record + offset });
    for (const r of p.f.record) f.record.push(r + offset);
    append(f.fingerprint, p.f.fingerprint);
    append(f.agent, p.f.agent);
    append(f.ts, p.f.ts);
    append(f.severity, p.f.severity);
    append(f.severityRank, p.f.severityRank);
    append(f.title, p.f.title);
    append(f.category, p.f.category);
    append(f.indicatorsJson, p.f.indicatorsJson);
    append(f.indicatorCount, p.f.indicatorCount);
    append(f.indicatorKeys, p.f.indicatorKeys);
    append(f.indicatorKinds, p.f.indicatorKinds);
    append(local.fields, part.local.fields);
    append(local.keys, part.local.keys);
    for (const [r, reason] of part.local.invalid) local.invalid.set(r + offset, reason);
  }
  return { plan, local };
}
