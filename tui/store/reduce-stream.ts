import type { HostView, RunView, StreamMessage } from '../../src/protocol/api.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import type { OrchestrationRunView } from '../../src/protocol/orchestration-api.js';
import { rolloutProgress, type RolloutHostView, type RolloutView } from '../../src/protocol/rollout.js';
import { upsertBounded } from './bounded-map.js';
import type { Ring } from './ring.js';
import { LIMITS, type ConsoleState } from './state.js';
import { applyTriage, countFindings } from './summary-count.js';
import type { Flash } from './ui-state.js';

/** Upserts ad-hoc runs, keeping the newest LIMITS.runs. */
export function upsertRuns(state: ConsoleState, runs: readonly RunView[]): ConsoleState {
  const next = upsertBounded(state.runs, runs, (r) => r.run_id, (r) => r.created_at, LIMITS.runs);
  return next === state.runs ? state : { ...state, runs: next };
}

/** Upserts orchestration runs, keeping the newest LIMITS.orchestrationRuns. */
export function upsertOrchestrationRuns(state: ConsoleState, runs: readonly OrchestrationRunView[]): ConsoleState {
  const next = upsertBounded(state.orchestrationRuns, runs, (r) => r.id, (r) => r.created_at, LIMITS.orchestrationRuns);
  return next === state.orchestrationRuns ? state : { ...state, orchestrationRuns: next };
}

/** Two lists of a rollout's hosts merged by name, the later `updated_at` of each winning. */
function mergeHosts(a: readonly RolloutHostView[], b: readonly RolloutHostView[]): RolloutHostView[] {
  const byName = new Map(a.map((h) => [h.hostname, h]));
  for (const h of b) {
    const known = byName.get(h.hostname);
    if (known === undefined || h.updated_at >= known.updated_at) byName.set(h.hostname, h);
  }
  return [...byName.values()];
}

/**
 * Applies a rollout change: a streamed summary (no hosts) with the host that moved, or a fetched rollout with all its
 * hosts. Hosts are merged by name, the later of each winning (a fetch may answer after newer stream messages, and
 * hosts streamed before the fetch are kept, so the list may be partial meanwhile); the further-on summary wins.
 */
export function upsertRollout(state: ConsoleState, rollout: RolloutView, host: RolloutHostView | undefined): ConsoleState {
  const known = state.rollouts.get(rollout.rollout_id);
  let hosts = known?.hosts;
  if (rollout.hosts !== undefined) hosts = mergeHosts(hosts ?? [], rollout.hosts);
  if (host !== undefined) hosts = mergeHosts(hosts ?? [], [host]);
  const { hosts: _ignored, ...summary } = known !== undefined && rolloutProgress(known) > rolloutProgress(rollout) ? known : rollout;
  const next: RolloutView = { ...summary, ...(hosts !== undefined && { hosts }) };
  const rollouts = upsertBounded(state.rollouts, [next], (r) => r.rollout_id, (r) => r.created_at, LIMITS.rollouts);
  return rollouts === state.rollouts ? state : { ...state, rollouts };
}

/**
 * Applies a batch of stream messages in order. A message whose cursor is not past the state's cursor was already
 * applied (a replay after a resume) and is skipped, so nothing is counted twice. `ready` always sets the cursor: it
 * is the CP's word on where the stream stands (lower only when the CP's feed was reset). `at` dates a flash.
 */
export function reduceStream(state: ConsoleState, messages: readonly StreamMessage[], at: number): ConsoleState {
  let cursor = state.cursor;
  let findings: Ring<StoredFinding> = state.findings;
  let summary = state.summary;
  let pending: StoredFinding[] = [];
  let hosts: Map<string, HostView> | undefined;
  const runs: RunView[] = [];
  const orchRuns: OrchestrationRunView[] = [];
  let flash: Flash | undefined;
  const rollouts: { rollout: RolloutView; host: RolloutHostView | undefined }[] = [];

  // Findings are batched into one push and one count, flushed before a triage so it sees them.
  const flushFindings = (): void => {
    if (pending.length === 0) return;
    findings = findings.push(...pending);
    summary = countFindings(summary, pending);
    pending = [];
  };

  for (const msg of messages) {
    if (msg.type === 'error') {
      flash = { text: `${msg.code}: ${msg.message}`, level: msg.code === 'OKS_ERR_STREAM_GAP' ? 'warn' : 'error', at };
      continue;
    }
    if (msg.type === 'ready') {
      cursor = msg.cursor;
      continue;
    }
    if (cursor !== undefined && msg.cursor <= cursor) continue;
    cursor = msg.cursor;
    switch (msg.type) {
      case 'finding':
        pending.push(msg.finding);
        break;
      case 'host':
        hosts ??= new Map(state.hosts);
        hosts.set(msg.host.hostname, msg.host);
        break;
      case 'run':
        runs.push(msg.run);
        break;
      case 'orchestration_run':
        orchRuns.push(msg.run);
        break;
      case 'rollout':
        rollouts.push({ rollout: msg.rollout, host: msg.host });
        break;
      case 'triage': {
        flushFindings();
        ({ findings, summary } = applyTriage(findings, summary, msg.triage));
        break;
      }
    }
  }
  flushFindings();

  let next: ConsoleState = state;
  if (cursor !== state.cursor) next = { ...next, cursor };
  if (findings !== state.findings) next = { ...next, findings };
  if (summary !== state.summary) next = { ...next, summary };
  if (hosts !== undefined) next = { ...next, hosts };
  if (flash !== undefined) next = { ...next, ui: { ...next.ui, flash } };
  next = upsertRuns(next, runs);
  for (const r of rollouts) next = upsertRollout(next, r.rollout, r.host);
  return upsertOrchestrationRuns(next, orchRuns);
}
