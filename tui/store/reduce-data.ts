import type { HostView } from '../../src/protocol/api.js';
import type { RunEvent } from '../../src/protocol/event.js';
import { setEvicting, trimNewest } from './bounded-map.js';
import type { DataEvent } from './events.js';
import { createRing } from './ring.js';
import { reduceStream, upsertOrchestrationRuns, upsertRollout, upsertRuns } from './reduce-stream.js';
import { LIMITS, type ConnectionInfo, type ConsoleState, type Transcript } from './state.js';
import { applyTriage } from './summary-count.js';

type Of<K extends DataEvent['type']> = Extract<DataEvent, { type: K }>;

/** Hosts by hostname. */
function hostMap(hosts: readonly HostView[]): ReadonlyMap<string, HostView> {
  return new Map(hosts.map((h) => [h.hostname, h]));
}

/** The first load or a full reload: every data slice replaced, the stream cursor reset to the snapshot's. */
export function reduceSnapshot(state: ConsoleState, e: Of<'snapshot'>): ConsoleState {
  const newest = <T>(items: readonly T[], key: (t: T) => string, createdAt: (t: T) => number, limit: number) =>
    trimNewest(new Map(items.map((i) => [key(i), i])), createdAt, limit);
  return {
    ...state,
    me: e.me,
    loaded: true,
    hosts: hostMap(e.hosts),
    hostsRefreshedAt: e.at,
    summary: e.summary,
    findings: createRing(LIMITS.feed, e.findings),
    cursor: e.cursor,
    ...(e.groups !== undefined && { groups: e.groups }),
    ...(e.clusters !== undefined && { clusters: e.clusters }),
    ...(e.runs !== undefined && { runs: newest(e.runs, (r) => r.run_id, (r) => r.created_at, LIMITS.runs) }),
    ...(e.orchestrationRuns !== undefined && {
      orchestrationRuns: newest(e.orchestrationRuns, (r) => r.id, (r) => r.created_at, LIMITS.orchestrationRuns),
    }),
    ...(e.orchestrations !== undefined && { orchestrations: e.orchestrations }),
    ...(e.agents !== undefined && { agents: e.agents }),
    // A full snapshot (one with groups) replaces the rollouts even when it has none (a CP without rollouts).
    ...((e.rollouts !== undefined || e.groups !== undefined) && {
      rollouts: newest(e.rollouts ?? [], (r) => r.rollout_id, (r) => r.created_at, LIMITS.rollouts),
    }),
  };
}

/**
 * The rest of a load: the older findings go in front of the feed (which holds the snapshot's page and what streamed
 * since), the other slices are set or upserted.
 */
export function reduceBackfill(state: ConsoleState, e: Of<'backfill'>): ConsoleState {
  const older = e.olderThan === undefined ? [] : e.findings.filter((f) => f.id < (e.olderThan as number));
  let next: ConsoleState = {
    ...state,
    findings: older.length === 0 ? state.findings : createRing(LIMITS.feed, [...older, ...state.findings.toArray()]),
    groups: e.groups,
    clusters: e.clusters,
    orchestrations: e.orchestrations,
    agents: e.agents,
  };
  next = upsertRuns(next, e.runs);
  next = upsertOrchestrationRuns(next, e.orchestrationRuns);
  for (const r of e.rollouts) next = upsertRollout(next, r, undefined);
  return next;
}

/** The stream's connection state; `reconnects` counts each fall from `open` back to `connecting`. */
export function reduceConnection(state: ConsoleState, e: Of<'connection'>): ConsoleState {
  const prev = state.connection;
  if (prev.state === e.state && prev.detail === e.detail) return state;
  const connection: ConnectionInfo = {
    state: e.state,
    detail: e.detail,
    since: prev.state === e.state ? prev.since : e.at,
    reconnects: prev.reconnects + (prev.state === 'open' && e.state === 'connecting' ? 1 : 0),
  };
  return { ...state, connection };
}

/** A page of a followed run's events: appended to the same run's transcript, or replacing another run's. */
export function reduceTranscript(state: ConsoleState, e: Of<'transcript'>): ConsoleState {
  const current = state.details.transcript;
  const events = current !== null && current.runId === e.runId ? current.events : createRing<RunEvent>(LIMITS.transcript);
  const transcript: Transcript = { runId: e.runId, events: events.push(...e.events), next: e.next, ended: e.ended };
  if (current !== null && current.runId === e.runId && transcript.events === current.events
    && current.next === e.next && current.ended === e.ended) return state;
  return { ...state, details: { ...state.details, transcript } };
}

/** Applies an event learned from the CP. */
export function reduceData(state: ConsoleState, e: DataEvent): ConsoleState {
  switch (e.type) {
    case 'snapshot':
      return reduceSnapshot(state, e);
    case 'backfill':
      return reduceBackfill(state, e);
    case 'hosts':
      return { ...state, hosts: hostMap(e.hosts), hostsRefreshedAt: e.at };
    case 'summary':
      return { ...state, summary: e.summary };
    case 'groups':
      return { ...state, groups: e.groups };
    case 'clusters':
      return { ...state, clusters: e.clusters };
    case 'library':
      return { ...state, orchestrations: e.orchestrations, agents: e.agents };
    case 'connection':
      return reduceConnection(state, e);
    case 'stream':
      return reduceStream(state, e.messages, e.at ?? state.connection.since);
    case 'finding-detail': {
      const findingEvents = setEvicting(state.details.findingEvents, e.id, e.event, LIMITS.findingEvents);
      return { ...state, details: { ...state.details, findingEvents } };
    }
    case 'transcript':
      return reduceTranscript(state, e);
    case 'transcript-close':
      return state.details.transcript === null ? state : { ...state, details: { ...state.details, transcript: null } };
    case 'run':
      return upsertRuns(state, [e.run]);
    case 'orchestration-run':
      return upsertOrchestrationRuns(state, [e.run]);
    case 'rollout':
      return upsertRollout(state, e.rollout, undefined);
    case 'triaged': {
      const { findings, summary } = applyTriage(state.findings, state.summary, e.triage);
      return findings === state.findings ? state : { ...state, findings, summary };
    }
  }
}
