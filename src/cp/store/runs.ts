import type { SqlDb } from './sql/sql-db.js';
import type { RunsRepo } from './store-contract.js';
import type { RunStatus, RunView } from '../../protocol/api.js';
import type { RunEvent } from '../../protocol/event.js';

/** Terminal run statuses: once there, a run does not move again. */
export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'timeout', 'cancelled']);

/** A new run record. */
export interface NewRun {
  run_id: string;
  host: string;
  agent: string;
  prompt: string;
  inputs: Record<string, unknown>;
  status: RunStatus;
  created_at: number;
  timeout_ms: number;
  created_by: string;
  /** Set for a run created already ended (a fan-out host no route could reach). */
  ended_at?: number;
  error?: string;
  /** The route it was dispatched by (`tunnel`, `jobs`); absent for a run that reached no host. */
  route?: 'tunnel' | 'jobs';
}

type RunRow = Omit<RunView, never> & { inputs: string };
const toView = ({ inputs: _inputs, ...view }: RunRow): RunView => view;

/** Rows per batched statement on Postgres. */
const BATCH_ROWS = 5000;

/** Run records and their transcripts. */
export function createRunsRepo(db: SqlDb): RunsRepo {
  const insert = db.prepare(
    `INSERT INTO runs (run_id, host, agent, prompt, inputs, status, created_at, timeout_ms, created_by, ended_at, error, route)
     VALUES (@run_id, @host, @agent, @prompt, @inputs, @status, @created_at, @timeout_ms, @created_by, @ended_at, @error, @route)`,
  );
  // Postgres: a fan-out's runs in one statement per chunk instead of a round trip each (arrays as named parameters).
  const insertBatch = db.dialect === 'postgres'
    ? db.prepare<[Record<string, unknown[]>]>(
        `INSERT INTO runs (run_id, host, agent, prompt, inputs, status, created_at, timeout_ms, created_by, ended_at, error, route)
         SELECT * FROM unnest(CAST(@run_id AS TEXT[]), CAST(@host AS TEXT[]), CAST(@agent AS TEXT[]), CAST(@prompt AS TEXT[]),
           CAST(@inputs AS TEXT[]), CAST(@status AS TEXT[]), CAST(@created_at AS BIGINT[]), CAST(@timeout_ms AS BIGINT[]),
           CAST(@created_by AS TEXT[]), CAST(@ended_at AS BIGINT[]), CAST(@error AS TEXT[]), CAST(@route AS TEXT[]))`,
      )
    : undefined;
  const get = db.prepare<[string], RunRow>('SELECT * FROM runs WHERE run_id = ?');
  const listAll = db.prepare<[number], RunRow>('SELECT * FROM runs ORDER BY created_at DESC LIMIT ?');
  const listByHost = db.prepare<[string, number], RunRow>('SELECT * FROM runs WHERE host = ? ORDER BY created_at DESC LIMIT ?');
  const setStatus = db.prepare(
    `UPDATE runs SET status = @status, started_at = coalesce(started_at, @started_at), ended_at = @ended_at, error = coalesce(@error, error)
     WHERE run_id = @run_id AND status NOT IN ('completed', 'failed', 'timeout', 'cancelled')`,
  );
  const setTimeoutMs = db.prepare(`UPDATE runs SET timeout_ms = ? WHERE run_id = ? AND status IN ('dispatched', 'running')`);
  const addCounts = db.prepare('UPDATE runs SET events = events + ?, findings = findings + ? WHERE run_id = ?');
  const events = db.prepare<[string, number, number], { body: string }>(
    'SELECT body FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
  const overdue = db.prepare<[number], RunRow>(
    `SELECT * FROM runs WHERE status IN ('dispatched', 'running') AND created_at + timeout_ms < ?`,
  );
  const activeOnHost = db.prepare<[string], RunRow>(`SELECT * FROM runs WHERE host = ? AND status IN ('dispatched', 'running')`);
  const countActive = db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM runs WHERE status IN ('dispatched', 'running')`);

  return {
    insert(run: NewRun): void {
      insert.run({ ...run, inputs: JSON.stringify(run.inputs), ended_at: run.ended_at ?? null, error: run.error ?? null, route: run.route ?? null });
    },
    insertMany(runs: readonly NewRun[]): void {
      if (!insertBatch) {
        for (const run of runs) this.insert(run);
        return;
      }
      for (let i = 0; i < runs.length; i += BATCH_ROWS) {
        const chunk = runs.slice(i, i + BATCH_ROWS);
        insertBatch.run({
          run_id: chunk.map((r) => r.run_id), host: chunk.map((r) => r.host), agent: chunk.map((r) => r.agent), prompt: chunk.map((r) => r.prompt),
          inputs: chunk.map((r) => JSON.stringify(r.inputs)), status: chunk.map((r) => r.status), created_at: chunk.map((r) => r.created_at),
          timeout_ms: chunk.map((r) => r.timeout_ms), created_by: chunk.map((r) => r.created_by), ended_at: chunk.map((r) => r.ended_at ?? null),
          error: chunk.map((r) => r.error ?? null), route: chunk.map((r) => r.route ?? null),
        });
      }
    },
    /** The view of a run just inserted, without reading it back. */
    viewOf(run: NewRun): RunView {
      return {
        run_id: run.run_id, host: run.host, agent: run.agent, prompt: run.prompt, status: run.status, created_at: run.created_at,
        started_at: null, ended_at: run.ended_at ?? null, timeout_ms: run.timeout_ms, error: run.error ?? null, findings: 0, events: 0,
        created_by: run.created_by, route: run.route ?? null,
      };
    },
    get(runId: string): RunView | undefined {
      const row = get.get(runId);
      return row && toView(row);
    },
    list(opts: { host?: string; limit: number }): RunView[] {
      const rows = opts.host ? listByHost.all(opts.host, opts.limit) : listAll.all(opts.limit);
      return rows.map(toView);
    },
    /** Moves a non-terminal run to `status`; false when it was already terminal (terminal states are final). */
    transition(runId: string, status: RunStatus, at: number, error?: string): boolean {
      const terminal = TERMINAL_STATUSES.has(status);
      return (
        setStatus.run({ run_id: runId, status, started_at: status === 'running' ? at : null, ended_at: terminal ? at : null, error: error ?? null })
          .changes > 0
      );
    },
    /** Sets the timeout of a run not yet ended (the host's, from its run_start). */
    setTimeoutMs(runId: string, timeoutMs: number): void {
      setTimeoutMs.run(timeoutMs, runId);
    },
    addCounts(runId: string, events: number, findings: number): void {
      addCounts.run(events, findings, runId);
    },
    /** Transcript events with seq above `after`, in order. */
    events(runId: string, after: number, limit: number): RunEvent[] {
      return events.all(runId, after, limit).map((r) => JSON.parse(r.body) as RunEvent);
    },
    /** Runs past their deadline that never ended. */
    overdue(now: number): RunView[] {
      return overdue.all(now).map(toView);
    },
    /** Runs of a host still dispatched or running. */
    activeOnHost(host: string): RunView[] {
      return activeOnHost.all(host).map(toView);
    },
    countActive(): number {
      return Number(countActive.get()?.n ?? 0);
    },
  };
}
export type { RunsRepo };
