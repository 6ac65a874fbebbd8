import type { FindingSummary, HostView, Role, RunView } from '../../src/protocol/api.js';
import type { RunEvent } from '../../src/protocol/event.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import type { AgentLibraryEntry, FindingClusterView, FindingGroupView } from '../../src/protocol/findings-api.js';
import type { OrchestrationRunView, OrchestrationView } from '../../src/protocol/orchestration-api.js';
import type { RolloutView } from '../../src/protocol/rollout.js';
import type { Ring } from './ring.js';
import type { UiState } from './ui-state.js';

/**
 * Everything the console shows, held in one immutable value: `reduce(state, event)` returns a new state and never
 * mutates the old one (a slice that did not change keeps its identity, so hooks selecting it do not re-render).
 */
export interface ConsoleState {
  /** The CP's URL as configured. */
  cp: string;
  /** Who the token is (GET /v1/whoami); null until known. */
  me: { name: string; role: Role } | null;
  connection: ConnectionInfo;
  /** True once the first snapshot (hosts, summary, findings, runs…) has been applied. */
  loaded: boolean;
  /** Hosts by hostname. */
  hosts: ReadonlyMap<string, HostView>;
  /** When the host list was last refreshed as a whole (ms, CP clock as seen by the client). */
  hostsRefreshedAt: number;
  /** Counts; kept current between refreshes by counting streamed findings in. */
  summary: FindingSummary;
  /** The live feed, oldest first (views show it newest first); bounded. */
  findings: Ring<StoredFinding>;
  /** Fingerprint groups, most recently seen first (refreshed, not streamed). */
  groups: readonly FindingGroupView[];
  /** Indicator clusters, most findings first (refreshed, not streamed). */
  clusters: readonly FindingClusterView[];
  /** Ad-hoc agent runs by run id; bounded to the newest RUN_LIMIT by creation time. */
  runs: ReadonlyMap<string, RunView>;
  /** Orchestration runs by id; bounded to the newest ORCHESTRATION_RUN_LIMIT. */
  orchestrationRuns: ReadonlyMap<string, OrchestrationRunView>;
  /** Rollouts by id (okesu upgrade), with their hosts when loaded; bounded to the newest LIMITS.rollouts. */
  rollouts: ReadonlyMap<string, RolloutView>;
  /** Stored orchestrations (dispatch view). */
  orchestrations: readonly OrchestrationView[];
  /** The CP's agent library (dispatch view). */
  agents: readonly AgentLibraryEntry[];
  /** Opened details fetched on demand: one finding's raw event, one run's transcript. */
  details: Details;
  /** The stream's resume cursor: the last one applied. */
  cursor: number | undefined;
  ui: UiState;
}

/** The live stream's connection, as the header shows it. */
export interface ConnectionInfo {
  state: 'connecting' | 'open' | 'closed';
  /** Why it is not open (last error), or null. */
  detail: string | null;
  /** When the state last changed (ms). */
  since: number;
  /** Reconnects since start (0 on the first connection). */
  reconnects: number;
}

/** Data loaded for a drill-in view. */
export interface Details {
  /** finding id → its raw event (GET /v1/findings/:id). */
  findingEvents: ReadonlyMap<number, Record<string, unknown>>;
  /** The transcript being followed, if any. */
  transcript: Transcript | null;
}

/** A followed run's events (ring-bounded) and whether the run has ended. */
export interface Transcript {
  runId: string;
  events: Ring<RunEvent>;
  /** The `after` for the next long poll. */
  next: number;
  ended: boolean;
}

/** Bounds that keep memory flat however long the console runs. */
export const LIMITS = {
  /** Findings kept in the live feed. */
  feed: 5000,
  /** Ad-hoc runs kept. */
  runs: 2000,
  /** Orchestration runs kept. */
  orchestrationRuns: 500,
  /** Transcript events kept for a followed run. */
  transcript: 2000,
  /** Rollouts kept. */
  rollouts: 50,
  /** Raw finding events kept for drill-ins. */
  findingEvents: 50,
} as const;
