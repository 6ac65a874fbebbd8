import type { RunView } from '../../protocol/api.js';
import type { OrchestrationRunView } from '../../protocol/orchestration-api.js';
import type { OrchestrationSpec } from '../../specs/orchestration/orchestration-types.js';
import type { Actor } from '../store/audit.js';

/**
 * The orchestration engine (SPEC §6), built by `createOrchestrationEngine` (`engine.ts`): starts runs, moves them step
 * by step as agent runs end, handles approvals and cancels, and resumes every unfinished run from the store after a
 * CP restart. Changes of one run are serialized; only the API's own calls throw (catalogue errors).
 */
export interface OrchestrationEngine {
  /** Resumes every unfinished run from the store (agent runs that ended while the CP was down are applied). */
  start(): void;
  /** Stops its timers (the offline watch, the delayed resume); queued changes still finish (see `idle`). */
  stop(): void;
  /** Waits until every change queued so far has finished (shutdown, tests). */
  idle(): Promise<void>;
  /** An agent run changed (ingest, timeout sweep, refusal, cancel): its step moves on once it has ended. */
  onRunChanged(run: RunView): void;
  /** Starts a run of a spec with a manual run's inputs; 400 names a bad input. */
  run(spec: OrchestrationSpec, inputs: Record<string, unknown>, by: Actor): Promise<OrchestrationRunView>;
  /**
   * Starts a run from a trigger (cron, finding): `fields` are bound under `trigger`, over the inputs' defaults.
   * Undefined (and a warning in the log) when the trigger's fields do not make valid inputs.
   */
  runTriggered(spec: OrchestrationSpec, fields: Record<string, unknown>, triggeredBy: string): Promise<OrchestrationRunView | undefined>;
  /** Approves a step waiting for approval: it runs with the prompt, inputs and targets rendered when it was reached. */
  approve(runId: string, stepId: string, by: Actor, reason: string | undefined): Promise<OrchestrationRunView>;
  /** Rejects a step waiting for approval: the step fails and the run ends failed. */
  reject(runId: string, stepId: string, by: Actor, reason: string | undefined): Promise<OrchestrationRunView>;
  /** Cancels a run: steps not reached are skipped, the running one fails, and its agent runs are cancelled on the hosts. */
  cancel(runId: string, by: Actor, reason: string | undefined): Promise<OrchestrationRunView>;
  /** A run's view; 404 when there is none. */
  view(runId: string): OrchestrationRunView;
}
