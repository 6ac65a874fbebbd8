/**
 * The shape of the CP's store, one named interface per repository. Two implementations of the same repositories:
 * SQLite (a path, the default) and PostgreSQL (`postgres://…`), both written against `SqlDb` (sql/sql-db.ts).
 */
import type { SqlDb } from './sql/sql-db.js';
import type { StoreHealth } from './store-health.js';
import type { HeartbeatUpdate, HostRow, HostTransport, StoredHeartbeat } from './hosts.js';
import type { TokenRow } from './tokens.js';
import type { NewRun } from './runs.js';
import type { FindingQuery } from './findings.js';
import type { ClustersFilter, GroupsFilter } from './finding-views.js';
import type { TriageChange } from './triage.js';
import type { FeedEntry, FeedKind } from './feed.js';
import type { Actor } from './audit.js';
import type { IngestItem, IngestResult } from './ingest.js';
import type { SshHostKeyRow } from './ssh-host-keys.js';
import type { RolloutHostRow, RolloutRow } from './rollouts.js';
import type { ReplicaRow } from './replicas.js';
import type { LeaseState } from './leases.js';
import type { AttemptRow, NotifyChannelRow, OutboxRow } from './notify.js';
import type {
  OrchestrationRecord, RunRecord, ScopeFinding, StepHostRecord, StepRecord,
} from '../orchestration/store.js';
import type { AuditEntry, FindingFilter, FindingSummary, RunStatus, RunView } from '../../protocol/api.js';
import type { RunEvent } from '../../protocol/event.js';
import type { FindingClusterView, FindingDetail, FindingGroupView, TriageRequest } from '../../protocol/findings-api.js';
import type { StoredFinding, TriageStatus } from '../../protocol/finding.js';
import type { EventRecord } from '../../protocol/tunnel.js';
import type { HostRollout, RolloutHostState, RolloutState } from '../../protocol/rollout.js';
import type { DeliveryCounts, DeliveryState } from '../../protocol/notify-api.js';

/** Host registry: identities, facts, batched "last heard" and which replica holds each host's tunnel. */
export interface HostsRepo {
  /** Moves whenever a host's keys may have changed (insert, renewal, backfill, revocation). */
  keysGeneration(): number;
  /** The live (not revoked) host with this name. */
  get(hostname: string): HostRow | undefined;
  /** The host (live or revoked) owning a credential id. */
  getByCredential(credentialId: string): HostRow | undefined;
  /** Every live host, by name. */
  list(): HostRow[];
  /** The names of every live host, in no particular order (cheaper than `list` when only names matter). */
  names(): string[];
  /** Operator label overrides of a host (`okesu hosts label`): a string sets the label, null removes it. */
  labelOverrides(hostname: string): Record<string, string | null>;
  setLabelOverride(hostname: string, key: string, value: string | null): void;
  /** How many live hosts there are. */
  count(): number;
  /** Binds a hostname to a new identity; throws on a live duplicate (unique index). */
  insert(
    row: Pick<HostRow, 'hostname' | 'cert_serial' | 'credential_id' | 'credential_hash' | 'os' | 'arch' | 'version' | 'labels' | 'registered_at'>
      & Partial<Pick<HostRow, 'cert_issued_at' | 'cert_not_after' | 'public_key' | 'transport'>>,
  ): void;
  /** Stores the key of a host registered before keys were kept; only when none is stored. */
  backfillPublicKey(id: number, publicKey: string): boolean;
  /** Records how a host reaches the CP (its bucket heartbeats, its tunnel hello). */
  setTransport(hostname: string, t: HostTransport): void;
  /** Binds a renewed certificate to a live host whose tunnel authenticated with serial `from` (compare-and-set). */
  renewCert(id: number, from: string, cert: { serial: string; issuedAt: number; notAfter: number; publicKey?: string }): boolean;
  /** The renewed certificate `serial` was used: the one it replaced is no longer accepted. */
  settleRenewal(id: number, serial: string): void;
  /** Revokes the live identity of a hostname; false when there was none. */
  revoke(hostname: string, at: number): boolean;
  /** Updates what a daimon reports about itself at connect. */
  updateFacts(id: number, f: { version: string; os: string; arch: string; labels: Record<string, string> }): void;
  /** Writes a batch of heartbeats in one transaction. */
  flushHeartbeats(updates: readonly HeartbeatUpdate[]): void;
  /**
   * Records the replica holding a live host's tunnel (null: none). With `onlyIfReplica`, only when that replica is
   * the one recorded (a replica clearing its own claim never clears another's newer one).
   */
  setReplica(hostname: string, replicaId: string | null, onlyIfReplica?: string): void;
  /** Hosts heard after `since` (ms) by any replica: the latest time flushed to the store for each. */
  heardSince(since: number): StoredHeartbeat[];
  /**
   * Records many tunnel changes of one replica at once: `up` takes the host, a close lets it go only while this replica
   * holds it. One statement per chunk on Postgres, with no writer lock (it writes no feed entry).
   */
  setReplicas(replicaId: string, changes: ReadonlyArray<{ hostname: string; up: boolean }>): void;
  /** Live hosts whose tunnel a replica holds. */
  withReplica(): Array<{ hostname: string; replica_id: string }>;
}

/** Join and operator tokens. */
export interface TokensRepo {
  get(id: string): TokenRow | undefined;
  list(): TokenRow[];
  insert(row: Omit<TokenRow, 'revoked_at'>): void;
  /** Revokes a token; false when unknown or already revoked. */
  revoke(id: string, at: number): boolean;
  /** Takes one use of a join token atomically; false when none was left. */
  consumeUse(id: string): boolean;
  /** True once an admin operator token exists (first start is done). */
  hasAdmin(): boolean;
}

/** Run records and their transcripts. */
export interface RunsRepo {
  insert(run: NewRun): void;
  /** Inserts many runs (a fan-out): one statement per chunk on Postgres. */
  insertMany(runs: readonly NewRun[]): void;
  /** The view of a run just inserted, without reading it back. */
  viewOf(run: NewRun): RunView;
  get(runId: string): RunView | undefined;
  list(opts: { host?: string; limit: number }): RunView[];
  /** Moves a non-terminal run to `status`; false when it was already terminal. */
  transition(runId: string, status: RunStatus, at: number, error?: string): boolean;
  /** Sets the timeout of a run not yet ended (the host's, from its run_start). */
  setTimeoutMs(runId: string, timeoutMs: number): void;
  addCounts(runId: string, events: number, findings: number): void;
  /** Transcript events with seq above `after`, in order. */
  events(runId: string, after: number, limit: number): RunEvent[];
  /** Runs past their deadline that never ended. */
  overdue(now: number): RunView[];
  /** Runs of a host still dispatched or running. */
  activeOnHost(host: string): RunView[];
  /** How many runs are dispatched or running, fleet-wide (`/metrics`; a scan of the runs, as the overdue sweep's). */
  countActive(): number;
}

/** Reads of stored findings: queries, summaries and one finding with its event. */
export interface FindingsRepo {
  /** The newest `limit` findings matching, oldest first; with `afterId`, the oldest `limit` above it. */
  query(q: FindingQuery): StoredFinding[];
  /** Counts by severity, category, agent and triage status, and the number of fingerprint groups. */
  summary(filter: FindingFilter, opts?: { openByHost?: boolean }): FindingSummary;
  /** One finding with its raw transcript event, or undefined. */
  get(id: number): FindingDetail | undefined;
}

/** The groups and clusters views of stored findings. */
export interface FindingViews {
  /** Fingerprint groups matching, most recently seen first. */
  groups(filter: GroupsFilter): FindingGroupView[];
  /** Indicators shared by at least two findings matching, the most findings first. */
  clusters(filter: ClustersFilter): FindingClusterView[];
}

/** Triage writes (call inside the transaction that also audits and feeds the decision). */
export interface TriageRepo {
  /** Applies a status to finding `id` (or its group); undefined when there is no such finding. */
  apply(id: number, status: TriageStatus, scope: TriageRequest['scope']): TriageChange | undefined;
}

/** The durable log behind the operator live stream; its ids are resume cursors. */
export interface FeedRepo {
  /** Appends an entry (call inside the writing transaction); returns its cursor. */
  append(ts: number, kind: FeedKind, payload: unknown): number;
  /** Appends a finding entry by reference to the stored finding; returns its cursor. */
  appendFinding(ts: number, findingId: number): number;
  /** Appends finding entries by reference to stored findings; their cursors, in the order given. */
  appendFindings(ts: number, findingIds: readonly number[]): number[];
  /** Appends many entries of one kind (inside the writing transaction); their cursors, in the order given. */
  appendMany(ts: number, kind: FeedKind, payloads: readonly unknown[]): number[];
  /** Entries with a cursor above `cursor`, oldest first. */
  after(cursor: number, limit: number): FeedEntry[];
  /** The newest cursor handed out (0 before any), even if pruned since. */
  head(): number;
  /** The oldest retained cursor, or undefined when the feed is empty. */
  oldest(): number | undefined;
  /** Drops entries older than `before` (ms); returns how many. */
  prune(before: number): number;
}

/** The append-only audit log of mutating operator actions. */
export interface AuditRepo {
  record(ts: number, actor: Actor, action: string, target: string, detail?: Record<string, unknown>): void;
  /** Newest first. */
  list(limit: number): AuditEntry[];
}

/** Stores event records exactly once per (run, seq). */
export interface Ingest {
  /** Ingests the items in one transaction; throws only on a storage failure (then nothing was written). */
  ingestBatch(items: readonly IngestItem[], now: number): IngestResult[];
  /** Ingests one host's batch atomically. */
  ingest(hostname: string, records: readonly EventRecord[], now: number): IngestResult;
}

/** Orchestrations, their runs, steps and step hosts, and cron bookkeeping. */
export interface OrchestrationRepo {
  putOrchestration(o: OrchestrationRecord): void;
  getOrchestration(name: string): OrchestrationRecord | undefined;
  listOrchestrations(): OrchestrationRecord[];
  /** Inserts a run with its steps (all pending). */
  insertRun(run: RunRecord, stepRows: readonly StepRecord[]): void;
  saveRun(run: RunRecord): void;
  getRun(id: string): RunRecord | undefined;
  /** Newest first. */
  listRuns(limit: number): RunRecord[];
  /** Runs not yet completed, failed or cancelled, oldest first. */
  activeRuns(): RunRecord[];
  /** How many runs of `name` that a finding started are still going. */
  activeFindingRunCount(name: string): number;
  steps(runId: string): StepRecord[];
  saveStep(s: StepRecord): void;
  /** Every host of every step of a run, by step then position. */
  hosts(runId: string): StepHostRecord[];
  insertHost(h: StepHostRecord): void;
  saveHost(h: StepHostRecord): void;
  /** The step host an agent run was dispatched for, if it belongs to an orchestration. */
  hostByAgentRun(agentRunId: string): StepHostRecord | undefined;
  /** The last cron slot fired for an orchestration's trigger (undefined when never, or when its cron changed). */
  lastFired(name: string, triggerIdx: number, cron: string): number | undefined;
  /** Records `slot` as fired unless it (or a later one) already was; true when this call claimed it. */
  claimSlot(name: string, triggerIdx: number, cron: string, slot: number): boolean;
  /** The attributes of an agent run's (last) `orchestration_result` event. */
  resultOf(agentRunId: string): Record<string, unknown> | null;
  /** The valid findings an agent run reported (as templates see them), oldest first, at most `limit`. */
  findingsOf(agentRunId: string, limit: number): ScopeFinding[];
}

/** The SSH host keys `okesu deploy` pinned, one per target (trust on first use). */
export interface SshHostKeysRepo {
  get(target: string): SshHostKeyRow | undefined;
  list(): SshHostKeyRow[];
  /** Pins `fingerprint` for `target` unless a key is pinned already; true when this call pinned it. */
  pin(row: SshHostKeyRow): boolean;
  /** Forgets the pin of `target`; false when none was pinned. */
  forget(target: string): boolean;
}

/** Rollouts and each host's state in them; the engine in src/cp/rollouts/ decides, this only stores. */
export interface RolloutsRepo {
  /** Stores a new rollout and its hosts (all `pending`), in the caller's transaction. */
  insert(row: Omit<RolloutRow, 'ended_at' | 'halted_reason' | 'state'>, hosts: readonly { hostname: string; batch: number }[]): void;
  get(id: string): RolloutRow | undefined;
  /** Newest first. */
  list(limit: number): RolloutRow[];
  /** Rollouts in `state`, oldest first. */
  withState(state: RolloutState): RolloutRow[];
  hosts(id: string): RolloutHostRow[];
  host(id: string, hostname: string): RolloutHostRow | undefined;
  /** The lowest batch with a host not final, or undefined when every host is final. */
  currentBatch(id: string): number | undefined;
  batchHosts(id: string, batch: number): RolloutHostRow[];
  /** Hosts not final in a running rollout, with that rollout. */
  busyHosts(): Map<string, string>;
  /** Hosts per state, every state present. */
  counts(id: string): Record<RolloutHostState, number>;
  setHost(h: RolloutHostRow): void;
  setState(id: string, state: RolloutState, endedAt: number | null, haltedReason: string | null): void;
  /** True while a running rollout targets `version`. */
  inUse(version: string): boolean;
  /** Hosts ordered and not yet final, in every rollout, with their rollout's health timeout. */
  inFlight(): (RolloutHostRow & { health_timeout_ms: number })[];
  /** A host's ordered, not final entries, with their rollout's version. */
  inFlightOf(hostname: string): (RolloutHostRow & { version: string })[];
  /** Each host's state in its latest rollout. */
  latestPerHost(): Map<string, HostRollout>;
}

/** The CP replicas sharing the store, each announcing itself (`replicas` table, schema v7). */
export interface ReplicasRepo {
  /** Inserts or refreshes a replica's row. */
  heartbeat(row: ReplicaRow): void;
  /** Every replica row, by id (the caller decides which are alive from `heard_at`). */
  list(): ReplicaRow[];
  remove(id: string): void;
}

/** Named leases with fencing epochs (`leases` table, schema v7): one holder at a time, e.g. the leader. */
export interface LeasesRepo {
  /** Takes a free or expired lease, or renews one's own, in one statement; reports who holds it after. */
  acquire(name: string, holder: string, ttlMs: number): LeaseState;
  /** Lets the lease go at once if `holder` holds it (its epoch is kept, so the next holder's is higher). */
  release(name: string, holder: string): void;
}

/** Alert delivery (`notify_*` tables, schema v8): channels, the outbox, the delivery log, notified fingerprint groups. */
export interface NotifyRepo {
  /** Stores a new channel; false when one of that name exists. */
  addChannel(row: NotifyChannelRow): boolean;
  getChannel(name: string): NotifyChannelRow | undefined;
  /** By name. */
  listChannels(): NotifyChannelRow[];
  /** Removes a channel with its outbox, its log and its notified groups; false when there was none. */
  removeChannel(name: string): boolean;
  /** Records that `channel` was told of fingerprint group `fingerprint`; true when it is new to the channel. */
  markSeen(channel: string, fingerprint: string, at: number): boolean;
  /** How many groups were new to `channel` after `since` (ms). */
  seenSince(channel: string, since: number): number;
  /** Adds an outbox row (call inside the enqueuer's transaction, with its cursor). */
  enqueue(row: OutboxRow): void;
  /** The channel's digest still gathering (`held`, due after `now`), if any. */
  openDigest(channel: string, now: number): OutboxRow | undefined;
  /** Replaces what a held digest carries. */
  setDigest(id: string, findings: string, total: number, at: number): void;
  /** Rows `held` or `pending` and due by `now`, the earliest first. */
  due(now: number, limit: number): OutboxRow[];
  get(id: string): OutboxRow | undefined;
  /**
   * Takes a due row for attempt `attempts + 1`: a held digest stops gathering and the row is not due again before
   * `until` (past the attempt's end), so another replica's worker does not send it meanwhile. False when the row is no
   * longer due with that many attempts (another replica took or settled it).
   */
  claim(id: string, attempts: number, now: number, until: number): boolean;
  /**
   * Records one attempt: the row's new state and the log line (call in one transaction). Only over the attempt before
   * it (`change.attempts - 1`): false, and nothing written, when another replica settled that attempt first.
   */
  settle(id: string, change: { state: DeliveryState; attempts: number; due_at: number; updated_at: number }, attempt: AttemptRow): boolean;
  /** Moves a row's due time without an attempt (a quiet period began). */
  reschedule(id: string, dueAt: number, at: number): void;
  /** The newest deliveries, of one channel or of all. */
  recent(opts: { channel?: string; limit: number }): OutboxRow[];
  /** The log of one delivery, in attempt order. */
  attempts(deliveryId: string): AttemptRow[];
  /** Forgets delivered and failed deliveries (with their log) last changed before `before`; how many. */
  prune(before: number): number;
  /** Deliveries by state (held counts as pending), of one channel or of all. */
  counts(channel?: string): DeliveryCounts;
}

/** The `meta` key/value table. */
export interface MetaRepo {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  /** Stores `value` unless the key has one; returns the stored value (this call's or the first writer's). */
  setIfAbsent(key: string, value: string): string;
}

/** The CP store. */
export interface Store {
  readonly db: SqlDb;
  readonly kind: 'sqlite' | 'postgres';
  readonly health: StoreHealth;
  readonly hosts: HostsRepo;
  readonly tokens: TokensRepo;
  readonly runs: RunsRepo;
  readonly findings: FindingsRepo;
  readonly findingViews: FindingViews;
  readonly triage: TriageRepo;
  readonly feed: FeedRepo;
  readonly audit: AuditRepo;
  readonly ingest: Ingest;
  readonly orchestrations: OrchestrationRepo;
  readonly sshHostKeys: SshHostKeysRepo;
  readonly rollouts: RolloutsRepo;
  readonly replicas: ReplicasRepo;
  readonly leases: LeasesRepo;
  readonly meta: MetaRepo;
  readonly notify: NotifyRepo;
  /** Runs `fn` in one transaction; refused (OKS_ERR_STORE_REPLACED) once a SQLite file was replaced under the CP. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export type { StoreHealth };
