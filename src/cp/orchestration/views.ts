import type { OrchestrationRunView, OrchestrationView, StepView } from '../../protocol/orchestration-api.js';
import type { OrchestrationRecord, RunRecord, StepHostRecord, StepRecord } from './store.js';

/** A stored orchestration as the API lists it. */
export function orchestrationView(o: OrchestrationRecord): OrchestrationView {
  return {
    name: o.name,
    description: o.spec.description,
    steps: o.spec.steps.map((s) => ({ id: s.id, agent: s.agent })),
    triggers: o.spec.triggers.map((t) => (t.type === 'cron' ? { type: 'cron', cron: t.cron } : { type: 'finding', filter: t.filter })),
    updated_at: o.updated_at,
    updated_by: o.updated_by,
  };
}

/** One step as the API shows it: the rendered prompt and inputs (once reached) and every host. */
export function stepView(step: StepRecord, hosts: readonly StepHostRecord[]): StepView {
  return {
    id: step.step_id,
    agent: step.agent,
    status: step.status,
    prompt: step.rendered?.prompt ?? null,
    inputs: step.rendered?.inputs ?? null,
    targets: step.rendered?.targets ?? null,
    hosts: hosts.map((h) => ({ host: h.host, status: h.status, run_id: h.agent_run_id, result: h.result, findings: h.findings, error: h.error })),
    result: step.result,
    error: step.error,
    started_at: step.started_at,
    ended_at: step.ended_at,
    decided_by: step.decided_by,
  };
}

/** A run with its steps in order, each with its hosts. */
export function runView(run: RunRecord, steps: readonly StepRecord[], hosts: readonly StepHostRecord[]): OrchestrationRunView {
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    trigger: run.trigger,
    triggered_by: run.triggered_by,
    created_at: run.created_at,
    updated_at: run.updated_at,
    ended_at: run.ended_at,
    error: run.error,
    steps: steps.map((s) => stepView(s, hosts.filter((h) => h.idx === s.idx))),
  };
}
