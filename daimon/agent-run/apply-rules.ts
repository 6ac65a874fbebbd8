import type { AgentSpec } from '../../src/specs/agent-spec.js';
import type { CollectorOutput, EmitEvent, Logger } from '../provider.js';
import { evaluateRules } from '../rules/evaluate-rules.js';
import type { AgentState } from './agent-state.js';

/**
 * Runs the agent's deterministic rules over this run's collector output, emits each finding, then stores the rules'
 * new state: a crash in between repeats a report on the next run (the dedup then usually drops it), never loses one. Rule problems (a threshold
 * that is not a number, a finding that does not validate) go to the transcript as `error` events and the log.
 */
export async function applyRules(
  agent: AgentSpec,
  outputs: CollectorOutput[],
  state: AgentState,
  scope: { host: string; agent: string; inputs: Record<string, unknown> },
  emit: EmitEvent,
  log: Logger,
): Promise<void> {
  if (agent.rules.length === 0) return;
  const result = evaluateRules(agent.rules, outputs, state.rules(), scope);
  for (const problem of result.problems) {
    log.warn({ problem }, 'rule problem');
    await emit({ type: 'error', code: 'rule_problem', message: problem });
  }
  for (const finding of result.findings) await emit(finding);
  state.saveRules(result.state);
}
