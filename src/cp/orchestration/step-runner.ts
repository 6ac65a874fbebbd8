import type { Logger } from 'pino';
import type { RunView } from '../../protocol/api.js';
import type { OrchestrationRunView } from '../../protocol/orchestration-api.js';
import type { OrchestrationRunState, StepSpec } from '../../specs/orchestration/orchestration-types.js';
import type { Dispatcher } from '../dispatcher.js';
import type { OperatorIdentity } from '../http/operator-auth.js';
import { TERMINAL_STATUSES } from '../store/runs.js';
import type { Store } from '../store/store.js';
import { evaluateWhen, renderStep, resolveTargets, stepOutcome } from './advance-step.js';
import { stepScope } from './step-scope.js';
import { type Rendered, type RunRecord, type StepHostRecord, type StepRecord } from './store.js';

/** Run states a run never leaves. */
export const RUN_DONE: ReadonlySet<OrchestrationRunState> = new Set(['completed', 'failed', 'cancelled']);
/** Step states a step never leaves. */
export const STEP_DONE: ReadonlySet<string> = new Set(['completed', 'failed', 'skipped']);

/** What the step runner works with: the store, the dispatcher and a way to commit a change of a run (and publish it). */
export interface StepRunnerDeps {
  store: Store;
  dispatcher: Pick<Dispatcher, 'createRuns'>;
  log: Logger;
  /** Runs `mutate` in one transaction, appends the run's view to the feed and publishes it after the commit. */
  commit(runId: string, mutate: (at: number) => void): OrchestrationRunView;
  /** Resolves when the hosts can be reached, or at once when waiting makes no sense (see the engine's reconnect window). */
  awaitReachable?: (hosts: readonly string[]) => Promise<void>;
}

/** The identity agent runs of an orchestration run are dispatched (and audited) as. */
export function actorOf(run: Pick<RunRecord, 'id' | 'name'>): OperatorIdentity {
  return { tokenId: 'orchestration', name: `orchestration:${run.name}/${run.id}`, role: 'operator' };
}

/** Ends a run: terminal status, error, and every step not yet reached skipped. Call inside a commit. */
export function endRun(store: Store, run: RunRecord, steps: readonly StepRecord[], status: 'completed' | 'failed' | 'cancelled', error: string | null, at: number): void {
  for (const s of steps) {
    if (s.status !== 'pending' && s.status !== 'waiting_approval') continue;
    s.status = 'skipped';
    s.ended_at = at;
    store.orchestrations.saveStep(s);
  }
  run.status = status;
  run.error = error;
  run.ended_at = at;
  run.updated_at = at;
  store.orchestrations.saveRun(run);
}

/** Fails a step; unless it continues on error, the run fails with it and the rest is skipped. Call inside a commit. */
function failStep(store: Store, run: RunRecord, steps: readonly StepRecord[], step: StepRecord, error: string, at: number): void {
  step.status = 'failed';
  step.error = error;
  step.started_at ??= at;
  step.ended_at = at;
  store.orchestrations.saveStep(step);
  run.updated_at = at;
  if ((run.spec.steps[step.idx] as StepSpec).continueOnError) store.orchestrations.saveRun(run);
  else endRun(store, run, steps, 'failed', `step ${step.step_id} failed: ${error}`, at);
}

/** A step host's state from its agent run once that ended: completed with its result, or failed saying how. */
function applyAgentRun(store: Store, h: StepHostRecord, run: RunView): void {
  h.result = store.orchestrations.resultOf(run.run_id);
  h.findings = run.findings;
  if (run.status === 'completed') {
    h.status = 'completed';
    return;
  }
  h.status = 'failed';
  h.error = `agent run ${run.status}${run.error ? `: ${run.error}` : ''}`;
}

/** Moves runs forward step by step: `when`, rendering, approval gates, dispatch, and the hosts' outcomes. */
export function createStepRunner(deps: StepRunnerDeps): StepRunner {
  const repo = deps.store.orchestrations;

  /** Applies every ended agent run of the run's running step; ends the step once all its hosts have. Idempotent. */
  const reconcile = (runId: string): void => {
    const run = repo.getRun(runId);
    if (!run || RUN_DONE.has(run.status)) return;
    const steps = repo.steps(runId);
    const step = steps.find((s) => s.status === 'running');
    if (!step) return;
    const hosts = repo.hosts(runId).filter((h) => h.idx === step.idx);
    const changed: StepHostRecord[] = [];
    for (const h of hosts) {
      if (h.status !== 'running' || h.agent_run_id === null) continue;
      const agentRun = deps.store.runs.get(h.agent_run_id);
      if (!agentRun || !TERMINAL_STATUSES.has(agentRun.status)) continue;
      applyAgentRun(deps.store, h, agentRun);
      changed.push(h);
    }
    const outcome = stepOutcome(hosts);
    if (changed.length === 0 && !outcome) return;
    deps.commit(runId, (at) => {
      for (const h of changed) repo.saveHost(h);
      run.updated_at = at;
      if (!outcome) return void repo.saveRun(run);
      step.result = outcome.result;
      step.ended_at = at;
      if (outcome.status === 'failed') return failStep(deps.store, run, steps, step, outcome.error as string, at);
      step.status = 'completed';
      repo.saveStep(step);
      repo.saveRun(run);
    });
  };

  /** Creates the step's hosts and dispatches one agent run to each; unknown hosts fail on their own. */
  const dispatchStep = async (run: RunRecord, steps: readonly StepRecord[], step: StepRecord, spec: StepSpec): Promise<void> => {
    const rendered = step.rendered as Rendered;
    // Stored labels already carry the operators' overrides (applied on every write).
    const targets = resolveTargets(rendered.targets, deps.store.hosts.list());
    if (!targets.ok) {
      deps.commit(run.id, (at) => failStep(deps.store, run, steps, step, targets.error, at));
      return;
    }
    const { known, unknown } = targets.value;
    const unknownSet = new Set(unknown);
    const ordered = rendered.targets.kind === 'hosts' ? [...new Set(rendered.targets.hosts)] : known;
    deps.commit(run.id, (at) => {
      step.status = 'running';
      step.started_at ??= at;
      repo.saveStep(step);
      run.updated_at = at;
      repo.saveRun(run);
      ordered.forEach((host, pos) => {
        const isUnknown = unknownSet.has(host);
        repo.insertHost({
          run_id: run.id, idx: step.idx, pos, host, status: isUnknown ? 'failed' : 'pending', agent_run_id: null, result: null, findings: 0,
          error: isUnknown ? `unknown host ${host} (not registered, or removed)` : null,
        });
      });
    });
    if (known.length > 0) {
      let created: Map<string, RunView> = new Map();
      let failure = 'no agent run was created';
      try {
        await deps.awaitReachable?.(known);
        const res = await deps.dispatcher.createRuns(
          { hosts: known, agent: spec.agent, prompt: rendered.prompt, inputs: rendered.inputs, timeout_ms: spec.timeoutMs, dispatch: spec.dispatch },
          actorOf(run),
        );
        created = new Map(res.runs.map((r) => [r.host, r]));
      } catch (err) {
        failure = `dispatch failed: ${(err as Error).message}`;
      }
      deps.commit(run.id, (at) => {
        for (const h of repo.hosts(run.id)) {
          if (h.idx !== step.idx || h.status !== 'pending') continue;
          const agentRun = created.get(h.host);
          h.status = agentRun ? 'running' : 'failed';
          h.agent_run_id = agentRun?.run_id ?? null;
          h.error = agentRun ? null : failure;
          repo.saveHost(h);
        }
        run.updated_at = at;
        repo.saveRun(run);
      });
    }
    // Agent runs may have ended already (refused, unreachable, or fast): apply them now.
    reconcile(run.id);
  };

  /** Moves a run forward until it waits (a running step, an approval) or ends. Call serialized per run. */
  const advance = async (runId: string): Promise<void> => {
    for (;;) {
      const run = repo.getRun(runId);
      if (!run || RUN_DONE.has(run.status) || run.status === 'approval_required') return;
      if (run.status === 'pending') {
        deps.commit(runId, (at) => {
          run.status = 'running';
          run.updated_at = at;
          repo.saveRun(run);
        });
      }
      const steps = repo.steps(runId);
      const step = steps.find((s) => !STEP_DONE.has(s.status));
      if (!step) {
        deps.commit(runId, (at) => endRun(deps.store, run, steps, 'completed', null, at));
        return;
      }
      if (step.status !== 'pending') return;
      const spec = run.spec.steps[step.idx] as StepSpec;
      if (!step.approved) {
        const scope = stepScope(run.trigger, steps.slice(0, step.idx), repo.hosts(runId), (id, n) => repo.findingsOf(id, n));
        const when = evaluateWhen(spec, scope);
        const rendered = when.ok && when.value ? renderStep(spec, scope) : undefined;
        const error = !when.ok ? when.error : rendered && !rendered.ok ? rendered.error : undefined;
        if (error !== undefined) {
          deps.commit(runId, (at) => failStep(deps.store, run, steps, step, error, at));
          continue;
        }
        if (!rendered?.ok) {
          deps.commit(runId, (at) => {
            step.status = 'skipped';
            step.started_at = at;
            step.ended_at = at;
            repo.saveStep(step);
          });
          continue;
        }
        step.rendered = rendered.value;
        if (spec.approval) {
          deps.commit(runId, (at) => {
            step.status = 'waiting_approval';
            step.started_at = at;
            repo.saveStep(step);
            run.status = 'approval_required';
            run.updated_at = at;
            repo.saveRun(run);
          });
          return;
        }
      }
      await dispatchStep(run, steps, step, spec);
    }
  };

  return { advance, reconcile };
}
/** The step runner: moves an orchestration run forward one step at a time; the engine serializes its calls per run. */
export interface StepRunner {
  /**
   * Moves a run forward until it waits (a running step, an approval) or ends: evaluates `when`, renders the step,
   * stops at an approval gate, dispatches one agent run per target host. Call serialized per run.
   */
  advance(runId: string): Promise<void>;
  /** Applies every ended agent run of the run's running step; ends the step once all its hosts have. Idempotent. */
  reconcile(runId: string): void;
}
