import type { FindingSummary, HostView, Role, RunView, StreamMessage } from '../../src/protocol/api.js';
import type { RunEvent } from '../../src/protocol/event.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import type { AgentLibraryEntry, FindingClusterView, FindingGroupView, TriageView } from '../../src/protocol/findings-api.js';
import type { OrchestrationRunView, OrchestrationView } from '../../src/protocol/orchestration-api.js';
import type { RolloutView } from '../../src/protocol/rollout.js';
import type { Confirm, Flash, FindingsMode, Prompt, RootView, RunsMode, ViewFrame, ViewId } from './ui-state.js';

/** Everything that changes the console's state. Data events come from the client; `ui/*` events from keys. */
export type ConsoleEvent = DataEvent | UiEvent;

/** What the client learned from the CP. */
export type DataEvent =
  /** The first load, and every full reload after a stream gap: replaces hosts, counts, feed, runs, library. */
  | {
      type: 'snapshot';
      at: number;
      me: { name: string; role: Role };
      hosts: HostView[];
      summary: FindingSummary;
      /** Newest findings, oldest first. */
      findings: StoredFinding[];
      /** The stream cursor consistent with `findings`. */
      cursor: number;
      /** The slices below, when absent (the client's first, small load), keep their value until a `backfill`. */
      groups?: FindingGroupView[];
      clusters?: FindingClusterView[];
      runs?: RunView[];
      orchestrationRuns?: OrchestrationRunView[];
      orchestrations?: OrchestrationView[];
      agents?: AgentLibraryEntry[];
      /** The newest rollouts, with hosts (absent from a CP without rollouts). */
      rollouts?: RolloutView[];
    }
  /**
   * The rest of a load, after the first frame: findings older than the snapshot's page (`olderThan`: its oldest id;
   * undefined when that page held every finding) and the slices the snapshot left out, upserted (loaded after the
   * stream opened, so at least as new as what it brought meanwhile).
   */
  | {
      type: 'backfill';
      findings: StoredFinding[];
      olderThan: number | undefined;
      groups: FindingGroupView[];
      clusters: FindingClusterView[];
      runs: RunView[];
      orchestrationRuns: OrchestrationRunView[];
      orchestrations: OrchestrationView[];
      agents: AgentLibraryEntry[];
      rollouts: RolloutView[];
    }
  /** A periodic full host list (heartbeat ages are not streamed). */
  | { type: 'hosts'; at: number; hosts: HostView[] }
  | { type: 'summary'; summary: FindingSummary }
  | { type: 'groups'; groups: FindingGroupView[] }
  | { type: 'clusters'; clusters: FindingClusterView[] }
  | { type: 'library'; orchestrations: OrchestrationView[]; agents: AgentLibraryEntry[] }
  | { type: 'connection'; state: 'connecting' | 'open' | 'closed'; detail: string | null; at: number }
  /**
   * Stream messages in arrival order, batched (the client flushes at most every ~30 ms). `at` (ms, when flushed)
   * dates the flash an `error` message raises.
   */
  | { type: 'stream'; messages: StreamMessage[]; at?: number }
  | { type: 'finding-detail'; id: number; event: Record<string, unknown> }
  | { type: 'transcript'; runId: string; events: RunEvent[]; next: number; ended: boolean }
  | { type: 'transcript-close' }
  /** An action's answer, applied before the stream echoes it. */
  | { type: 'run'; run: RunView }
  | { type: 'orchestration-run'; run: OrchestrationRunView }
  /** A rollout fetched whole (with its hosts), for one first seen on the stream. */
  | { type: 'rollout'; rollout: RolloutView }
  | { type: 'triaged'; triage: TriageView };

/** What a key did. */
export type UiEvent =
  | { type: 'ui/push'; frame: ViewFrame }
  | { type: 'ui/pop' }
  /** Resets the stack to a root view (`:fleet`, `:findings`…). */
  | { type: 'ui/jump'; view: RootView }
  /** Moves the selection of the current frame to `index` (the reducer does not clamp: views clamp to their rows). */
  | { type: 'ui/select'; index: number }
  | { type: 'ui/prompt'; prompt: Prompt | null }
  /** Sets the current frame's filter ('' clears it). */
  | { type: 'ui/filter'; text: string }
  /** Sorts `view` by `column`; the same column again flips the direction. */
  | { type: 'ui/sort'; view: ViewId; column: string }
  | { type: 'ui/findings-mode'; mode: FindingsMode }
  | { type: 'ui/runs-mode'; mode: RunsMode }
  | { type: 'ui/confirm'; confirm: Confirm | null }
  | { type: 'ui/help'; open: boolean }
  | { type: 'ui/flash'; flash: Flash }
  /** Clears the flash if it is still the one shown at `at`. */
  | { type: 'ui/flash-clear'; at: number };
