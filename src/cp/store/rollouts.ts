import type { SqlDb } from './sql/sql-db.js';
import type { RolloutsRepo } from './store-contract.js';
import {
  ROLLOUT_HOST_STATES, type HostRollout, type RolloutHostState, type RolloutHostView, type RolloutState, type RolloutView,
} from '../../protocol/rollout.js';

/** A rollout's settings and state as stored (table `rollouts`). */
export interface RolloutRow {
  id: string;
  version: string;
  state: RolloutState;
  created_at: number;
  created_by: string;
  ended_at: number | null;
  batch: number;
  canary: number;
  halt_on_error: boolean;
  health_timeout_ms: number;
  allow_downgrade: boolean;
  halted_reason: string | null;
}

/** One host of a rollout as stored (table `rollout_hosts`); `ordered_at` is set once its `upgrade` frame went out. */
export interface RolloutHostRow extends RolloutHostView {
  rollout_id: string;
  ordered_at: number | null;
}

type RawRollout = Omit<RolloutRow, 'halt_on_error' | 'allow_downgrade'> & { halt_on_error: number; allow_downgrade: number };

const toRollout = (r: RawRollout): RolloutRow => ({ ...r, halt_on_error: r.halt_on_error === 1, allow_downgrade: r.allow_downgrade === 1 });

/** Every state at 0: the base of a rollout's counts. */
export function zeroCounts(): Record<RolloutHostState, number> {
  return Object.fromEntries(ROLLOUT_HOST_STATES.map((s) => [s, 0])) as Record<RolloutHostState, number>;
}

/** The API's view of a stored rollout, with its counts (and hosts when given). */
export function rolloutView(row: RolloutRow, counts: Record<RolloutHostState, number>, hosts?: RolloutHostRow[]): RolloutView {
  return {
    rollout_id: row.id, version: row.version, state: row.state, created_at: row.created_at, created_by: row.created_by,
    ended_at: row.ended_at, batch: row.batch, canary: row.canary, halt_on_error: row.halt_on_error,
    health_timeout_ms: row.health_timeout_ms, allow_downgrade: row.allow_downgrade, counts, halted_reason: row.halted_reason,
    ...(hosts && { hosts: hosts.map(hostView) }),
  };
}

/** The API's view of a stored rollout host. */
export function hostView(h: RolloutHostRow): RolloutHostView {
  return { hostname: h.hostname, batch: h.batch, state: h.state, from_version: h.from_version, reason: h.reason, updated_at: h.updated_at };
}

/** Rollouts and each host's state in them (schema v6); the engine in src/cp/rollouts/ decides, this only stores. */
export function createRolloutsRepo(db: SqlDb): RolloutsRepo {
  const insertRollout = db.prepare(
    `INSERT INTO rollouts (id, version, state, created_at, created_by, ended_at, batch, canary, halt_on_error, health_timeout_ms, allow_downgrade, halted_reason)
     VALUES (@id, @version, @state, @created_at, @created_by, NULL, @batch, @canary, @halt_on_error, @health_timeout_ms, @allow_downgrade, NULL)`,
  );
  const insertHost = db.prepare(
    "INSERT INTO rollout_hosts (rollout_id, hostname, batch, state, from_version, reason, ordered_at, updated_at) VALUES (?, ?, ?, 'pending', '', NULL, NULL, ?)",
  );
  const getOne = db.prepare<[string], RawRollout>('SELECT * FROM rollouts WHERE id = ?');
  const listNewest = db.prepare<[number], RawRollout>('SELECT * FROM rollouts ORDER BY created_at DESC, id DESC LIMIT ?');
  const byState = db.prepare<[string], RawRollout>('SELECT * FROM rollouts WHERE state = ? ORDER BY created_at');
  const hostsOf = db.prepare<[string], RolloutHostRow>('SELECT * FROM rollout_hosts WHERE rollout_id = ? ORDER BY batch, hostname');
  const hostOf = db.prepare<[string, string], RolloutHostRow>('SELECT * FROM rollout_hosts WHERE rollout_id = ? AND hostname = ?');
  const countsOf = db.prepare<[string], { state: RolloutHostState; n: number }>('SELECT state, count(*) AS n FROM rollout_hosts WHERE rollout_id = ? GROUP BY state');
  const updateHost = db.prepare(
    'UPDATE rollout_hosts SET state = @state, reason = @reason, from_version = @from_version, ordered_at = @ordered_at, updated_at = @updated_at WHERE rollout_id = @rollout_id AND hostname = @hostname',
  );
  const updateRollout = db.prepare('UPDATE rollouts SET state = ?, ended_at = ?, halted_reason = ? WHERE id = ?');
  const activeWith = db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM rollouts WHERE version = ? AND state = 'running'");
  const inFlightAll = db.prepare<[], RolloutHostRow & { health_timeout_ms: number }>(
    `SELECT h.*, r.health_timeout_ms FROM rollout_hosts h JOIN rollouts r ON r.id = h.rollout_id
     WHERE h.ordered_at IS NOT NULL AND h.state NOT IN ('healthy', 'rolled_back', 'failed')`,
  );
  const inFlightHost = db.prepare<[string], RolloutHostRow & { version: string }>(
    `SELECT h.*, r.version FROM rollout_hosts h JOIN rollouts r ON r.id = h.rollout_id
     WHERE h.hostname = ? AND h.ordered_at IS NOT NULL AND h.state NOT IN ('healthy', 'rolled_back', 'failed')`,
  );
  // Each host's entry in the newest rollout it is in (one sort over every entry: this runs once, at start).
  const latestPerHost = db.prepare<[], { hostname: string; rollout_id: string; state: RolloutHostState; version: string }>(
    `SELECT hostname, rollout_id, state, version FROM (
       SELECT h.hostname, h.rollout_id, h.state, r.version,
              row_number() OVER (PARTITION BY h.hostname ORDER BY r.created_at DESC, r.id DESC) AS n
       FROM rollout_hosts h JOIN rollouts r ON r.id = h.rollout_id) AS ranked
     WHERE n = 1`,
  );
  const busy = db.prepare<[], { hostname: string; rollout_id: string }>(
    // A host is busy while a running rollout may still order it, and while it finishes an order of a halted or
    // cancelled one (those hosts go on with their upgrade: a second order would be refused by the daimon).
    `SELECT h.hostname, h.rollout_id FROM rollout_hosts h JOIN rollouts r ON r.id = h.rollout_id
     WHERE h.state NOT IN ('healthy', 'rolled_back', 'failed') AND (r.state = 'running' OR h.ordered_at IS NOT NULL)`,
  );
  const openBatch = db.prepare<[string], { batch: number | null }>(
    "SELECT min(batch) AS batch FROM rollout_hosts WHERE rollout_id = ? AND state NOT IN ('healthy', 'rolled_back', 'failed')",
  );
  const batchHosts = db.prepare<[string, number], RolloutHostRow>('SELECT * FROM rollout_hosts WHERE rollout_id = ? AND batch = ? ORDER BY hostname');

  return {
    /** Stores a new rollout and its hosts (all `pending`), in the caller's transaction. */
    insert(row: Omit<RolloutRow, 'ended_at' | 'halted_reason' | 'state'>, hosts: readonly { hostname: string; batch: number }[]): void {
      insertRollout.run({ ...row, state: 'running', halt_on_error: row.halt_on_error ? 1 : 0, allow_downgrade: row.allow_downgrade ? 1 : 0 });
      for (const h of hosts) insertHost.run(row.id, h.hostname, h.batch, row.created_at);
    },
    get(id: string): RolloutRow | undefined {
      const raw = getOne.get(id);
      return raw && toRollout(raw);
    },
    /** Newest first. */
    list(limit: number): RolloutRow[] {
      return listNewest.all(limit).map(toRollout);
    },
    /** Rollouts in `state`, oldest first (the engine resumes the running ones at start). */
    withState(state: RolloutState): RolloutRow[] {
      return byState.all(state).map(toRollout);
    },
    hosts(id: string): RolloutHostRow[] {
      return hostsOf.all(id);
    },
    host(id: string, hostname: string): RolloutHostRow | undefined {
      return hostOf.get(id, hostname);
    },
    /** The lowest batch with a host not final (the one being worked on), or undefined when every host is final. */
    currentBatch(id: string): number | undefined {
      return openBatch.get(id)?.batch ?? undefined;
    },
    /** The hosts of one batch. */
    batchHosts(id: string, batch: number): RolloutHostRow[] {
      return batchHosts.all(id, batch);
    },
    /** Hosts not final in a running rollout, with that rollout (a host is in one running rollout at a time). */
    busyHosts(): Map<string, string> {
      return new Map(busy.all().map((r) => [r.hostname, r.rollout_id]));
    },
    /** Hosts per state, every state present. */
    counts(id: string): Record<RolloutHostState, number> {
      const counts = zeroCounts();
      for (const r of countsOf.all(id)) counts[r.state] = r.n;
      return counts;
    },
    /** Writes a host's state (the whole row's mutable part). */
    setHost(h: RolloutHostRow): void {
      updateHost.run({ rollout_id: h.rollout_id, hostname: h.hostname, state: h.state, reason: h.reason, from_version: h.from_version, ordered_at: h.ordered_at, updated_at: h.updated_at });
    },
    /** Ends (or re-states) a rollout. */
    setState(id: string, state: RolloutState, endedAt: number | null, haltedReason: string | null): void {
      updateRollout.run(state, endedAt, haltedReason, id);
    },
    /** True while a running rollout targets `version` (the release store keeps it then). */
    inUse(version: string): boolean {
      return (activeWith.get(version)?.n ?? 0) > 0;
    },
    /** Hosts ordered and not yet final, in every rollout, with their rollout's health timeout (the no-report sweep). */
    inFlight(): (RolloutHostRow & { health_timeout_ms: number })[] {
      return inFlightAll.all();
    },
    /** A host's ordered, not final entries, with their rollout's version (a hello on that version makes it healthy). */
    inFlightOf(hostname: string): (RolloutHostRow & { version: string })[] {
      return inFlightHost.all(hostname);
    },
    /** Each host's state in its latest rollout. */
    latestPerHost(): Map<string, HostRollout> {
      return new Map(latestPerHost.all().map((r) => [r.hostname, { rollout_id: r.rollout_id, state: r.state, version: r.version }]));
    },
  };
}
export type { RolloutsRepo };
