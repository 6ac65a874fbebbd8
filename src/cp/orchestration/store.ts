import type { SqlDb } from '../store/sql/sql-db.js';
import type { OrchestrationRepo } from '../store/store-contract.js';
import type { OrchestrationRunState, OrchestrationSpec, StepHostState, StepState } from '../../specs/orchestration/orchestration-types.js';
import { fingerprintFinding } from '../../protocol/fingerprint.js';
import { validateFindingFields } from '../findings/stored-finding.js';

/** A stored orchestration: its YAML as applied and the parsed spec. */
export interface OrchestrationRecord {
  name: string;
  yaml: string;
  spec: OrchestrationSpec;
  updated_at: number;
  updated_by: string;
}

/** A finding as templates and `when` see it under `STEP.findings`. */
export interface ScopeFinding {
  severity: string;
  title: string;
  category: string;
  resource: string;
  host: string;
  agent: string;
  fingerprint: string;
}

/** An orchestration run row; `spec` is the spec it started with. */
export interface RunRecord {
  id: string;
  name: string;
  spec: OrchestrationSpec;
  status: OrchestrationRunState;
  trigger: Record<string, unknown>;
  triggered_by: string;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
  error: string | null;
}

/** The hosts a step was rendered to: a list (from `node`/`nodes`) or a selector resolved at dispatch. */
export type RenderedTargets = { kind: 'hosts'; hosts: string[] } | { kind: 'selector'; selector: string };

/** What a step looked like once rendered: exactly what runs (and what an approver approves). */
export interface Rendered {
  prompt: string;
  inputs: Record<string, string>;
  targets: RenderedTargets;
}

/** One step of a run. */
export interface StepRecord {
  run_id: string;
  idx: number;
  step_id: string;
  agent: string;
  status: StepState;
  rendered: Rendered | null;
  approved: boolean;
  result: Record<string, unknown> | null;
  error: string | null;
  started_at: number | null;
  ended_at: number | null;
  decided_by: string | null;
}

/** One host of a step. */
export interface StepHostRecord {
  run_id: string;
  idx: number;
  pos: number;
  host: string;
  status: StepHostState;
  agent_run_id: string | null;
  result: Record<string, unknown> | null;
  findings: number;
  error: string | null;
}

type Json<T, K extends keyof T> = Omit<T, K> & { [P in K]: string | null };
type RawRun = Json<RunRecord, 'spec' | 'trigger'>;
type RawStep = Omit<Json<StepRecord, 'rendered' | 'result'>, 'approved'> & { approved: number };
type RawHost = Json<StepHostRecord, 'result'>;

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
const toRun = (r: RawRun): RunRecord => ({ ...r, spec: parse<OrchestrationSpec>(r.spec) as OrchestrationSpec, trigger: parse<Record<string, unknown>>(r.trigger) ?? {} });
const toStep = (r: RawStep): StepRecord => ({ ...r, rendered: parse<Rendered>(r.rendered), result: parse<Record<string, unknown>>(r.result), approved: r.approved === 1 });
const toHost = (r: RawHost): StepHostRecord => ({ ...r, result: parse<Record<string, unknown>>(r.result) });
const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** Orchestrations, their runs, steps and step hosts, and cron bookkeeping. */
export function createOrchestrationRepo(db: SqlDb): OrchestrationRepo {
  const upsertOrch = db.prepare(
    `INSERT INTO orchestrations (name, yaml, spec, updated_at, updated_by) VALUES (@name, @yaml, @spec, @updated_at, @updated_by)
     ON CONFLICT (name) DO UPDATE SET yaml = excluded.yaml, spec = excluded.spec, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  );
  const getOrch = db.prepare<[string], Json<OrchestrationRecord, 'spec'>>('SELECT * FROM orchestrations WHERE name = ?');
  const listOrch = db.prepare<[], Json<OrchestrationRecord, 'spec'>>('SELECT * FROM orchestrations ORDER BY name');
  const insertRun = db.prepare(
    `INSERT INTO orchestration_runs (id, name, spec, status, trigger, triggered_by, created_at, updated_at, ended_at, error)
     VALUES (@id, @name, @spec, @status, @trigger, @triggered_by, @created_at, @updated_at, @ended_at, @error)`,
  );
  const saveRun = db.prepare('UPDATE orchestration_runs SET status = @status, updated_at = @updated_at, ended_at = @ended_at, error = @error WHERE id = @id');
  const getRun = db.prepare<[string], RawRun>('SELECT * FROM orchestration_runs WHERE id = ?');
  const listRuns = db.prepare<[number], RawRun>('SELECT * FROM orchestration_runs ORDER BY created_at DESC, id DESC LIMIT ?');
  const activeRuns = db.prepare<[], RawRun>("SELECT * FROM orchestration_runs WHERE status IN ('pending', 'running', 'approval_required') ORDER BY created_at");
  const activeFindingRuns = db.prepare<[string], { n: number }>(
    "SELECT COUNT(*) AS n FROM orchestration_runs WHERE name = ? AND triggered_by LIKE 'finding:%' AND status IN ('pending', 'running', 'approval_required')",
  );
  const insertStep = db.prepare(
    `INSERT INTO orchestration_steps (run_id, idx, step_id, agent, status, rendered, approved, result, error, started_at, ended_at, decided_by)
     VALUES (@run_id, @idx, @step_id, @agent, @status, @rendered, @approved, @result, @error, @started_at, @ended_at, @decided_by)`,
  );
  const saveStep = db.prepare(
    `UPDATE orchestration_steps SET status = @status, rendered = @rendered, approved = @approved, result = @result, error = @error,
     started_at = @started_at, ended_at = @ended_at, decided_by = @decided_by WHERE run_id = @run_id AND idx = @idx`,
  );
  const steps = db.prepare<[string], RawStep>('SELECT * FROM orchestration_steps WHERE run_id = ? ORDER BY idx');
  const insertHost = db.prepare(
    `INSERT INTO orchestration_step_hosts (run_id, idx, pos, host, status, agent_run_id, result, findings, error)
     VALUES (@run_id, @idx, @pos, @host, @status, @agent_run_id, @result, @findings, @error)`,
  );
  const saveHost = db.prepare(
    `UPDATE orchestration_step_hosts SET status = @status, agent_run_id = @agent_run_id, result = @result, findings = @findings, error = @error
     WHERE run_id = @run_id AND idx = @idx AND pos = @pos`,
  );
  const hosts = db.prepare<[string], RawHost>('SELECT * FROM orchestration_step_hosts WHERE run_id = ? ORDER BY idx, pos');
  const hostByAgentRun = db.prepare<[string], RawHost>('SELECT * FROM orchestration_step_hosts WHERE agent_run_id = ?');
  const firedGet = db.prepare<[string, number, string], { slot: number }>('SELECT slot FROM orchestration_cron_fired WHERE name = ? AND trigger_idx = ? AND cron = ?');
  // One statement decides: two replicas that both believe they lead (a paused old leader) cannot both claim a slot.
  const firedClaim = db.prepare<[string, number, string, number], { slot: number }>(
    `INSERT INTO orchestration_cron_fired (name, trigger_idx, cron, slot) VALUES (?, ?, ?, ?)
     ON CONFLICT (name, trigger_idx) DO UPDATE SET cron = excluded.cron, slot = excluded.slot
     WHERE orchestration_cron_fired.cron <> excluded.cron OR orchestration_cron_fired.slot < excluded.slot
     RETURNING slot`,
  );
  // The event's type, read from its JSON body (each database has its own JSON functions).
  const typeOf = db.dialect === 'sqlite' ? "json_extract(body, '$.type')" : "(body::jsonb ->> 'type')";
  const resultEvent = db.prepare<[string], { body: string }>(
    `SELECT body FROM events WHERE run_id = ? AND ${typeOf} = 'orchestration_result' ORDER BY seq DESC LIMIT 1`,
  );
  // Read from the run's transcript (its index), not the findings table, which has no index by run or event.
  const findingEvents = db.prepare<[string, number], { body: string }>(
    `SELECT body FROM events WHERE run_id = ? AND ${typeOf} = 'finding' ORDER BY seq LIMIT ?`,
  );
  const toOrch = (r: Json<OrchestrationRecord, 'spec'>): OrchestrationRecord => ({ ...r, spec: JSON.parse(r.spec as string) as OrchestrationSpec });

  return {
    /** Stores or replaces an orchestration. */
    putOrchestration(o: OrchestrationRecord): void {
      upsertOrch.run({ ...o, spec: json(o.spec) });
    },
    getOrchestration(name: string): OrchestrationRecord | undefined {
      const r = getOrch.get(name);
      return r && toOrch(r);
    },
    listOrchestrations(): OrchestrationRecord[] {
      return listOrch.all().map(toOrch);
    },
    /** Inserts a run with its steps (all pending). */
    insertRun(run: RunRecord, stepRows: readonly StepRecord[]): void {
      insertRun.run({ ...run, spec: json(run.spec), trigger: json(run.trigger) });
      for (const s of stepRows) insertStep.run({ ...s, rendered: json(s.rendered), result: json(s.result), approved: s.approved ? 1 : 0 });
    },
    saveRun(run: RunRecord): void {
      saveRun.run({ id: run.id, status: run.status, updated_at: run.updated_at, ended_at: run.ended_at, error: run.error });
    },
    getRun(id: string): RunRecord | undefined {
      const r = getRun.get(id);
      return r && toRun(r);
    },
    /** Newest first. */
    listRuns(limit: number): RunRecord[] {
      return listRuns.all(limit).map(toRun);
    },
    /** Runs not yet completed, failed or cancelled, oldest first. */
    activeRuns(): RunRecord[] {
      return activeRuns.all().map(toRun);
    },
    /** How many runs of `name` that a finding started are still going. */
    activeFindingRunCount(name: string): number {
      return activeFindingRuns.get(name)?.n ?? 0;
    },
    steps(runId: string): StepRecord[] {
      return steps.all(runId).map(toStep);
    },
    saveStep(s: StepRecord): void {
      saveStep.run({ ...s, rendered: json(s.rendered), result: json(s.result), approved: s.approved ? 1 : 0 });
    },
    /** Every host of every step of a run, by step then position. */
    hosts(runId: string): StepHostRecord[] {
      return hosts.all(runId).map(toHost);
    },
    insertHost(h: StepHostRecord): void {
      insertHost.run({ ...h, result: json(h.result) });
    },
    saveHost(h: StepHostRecord): void {
      saveHost.run({ ...h, result: json(h.result) });
    },
    /** The step host an agent run was dispatched for, if it belongs to an orchestration. */
    hostByAgentRun(agentRunId: string): StepHostRecord | undefined {
      const r = hostByAgentRun.get(agentRunId);
      return r && toHost(r);
    },
    /** The last cron slot fired for an orchestration's trigger (undefined when never, or when its cron changed). */
    lastFired(name: string, triggerIdx: number, cron: string): number | undefined {
      return firedGet.get(name, triggerIdx, cron)?.slot;
    },
    claimSlot(name: string, triggerIdx: number, cron: string, slot: number): boolean {
      return firedClaim.get(name, triggerIdx, cron, slot) !== undefined;
    },
    /** The attributes of an agent run's (last) `orchestration_result` event. */
    resultOf(agentRunId: string): Record<string, unknown> | null {
      const row = resultEvent.get(agentRunId);
      if (!row) return null;
      const attrs = (JSON.parse(row.body) as { attributes?: unknown }).attributes;
      return attrs !== null && typeof attrs === 'object' && !Array.isArray(attrs) ? (attrs as Record<string, unknown>) : null;
    },
    /** The valid findings an agent run reported (as templates see them), oldest first, at most `limit`. */
    findingsOf(agentRunId: string, limit: number): ScopeFinding[] {
      return findingEvents.all(agentRunId, limit).flatMap((row) => {
        const event = JSON.parse(row.body) as { host?: string; agent?: string };
        const valid = validateFindingFields(event);
        if (!valid.ok) return [];
        const f = valid.fields;
        return [{ severity: f.severity, title: f.title, category: f.category, resource: f.resource, host: event.host ?? '', agent: event.agent ?? '', fingerprint: fingerprintFinding(f) }];
      });
    },
  };
}
export type { OrchestrationRepo };
