import type { ScopeFinding, StepHostRecord, StepRecord } from './store.js';

/** Most findings of one step host a template scope carries. */
export const SCOPE_FINDINGS_PER_HOST = 1000;

/**
 * The result of a step from its hosts' results: a one-host step's own result; a fan-out's results merged key by key in
 * target order (a later host's value wins for a key two hosts both report). Hosts without a result add nothing.
 */
export function mergeResults(hosts: readonly StepHostRecord[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const h of hosts) if (h.result) Object.assign(merged, h.result);
  return merged;
}

/**
 * The scope of templates and `when` (SPEC §6): `trigger`, and for every earlier step `{ status, result, findings,
 * nodes, byNode: { host: { status, result, findings } } }`.
 */
export function stepScope(
  trigger: Record<string, unknown>,
  earlier: readonly StepRecord[],
  hosts: readonly StepHostRecord[],
  findingsOf: (agentRunId: string, limit: number) => ScopeFinding[],
): Record<string, unknown> {
  const scope: Record<string, unknown> = { trigger };
  for (const step of earlier) {
    const own = hosts.filter((h) => h.idx === step.idx);
    const byNode: Record<string, unknown> = {};
    const findings: ScopeFinding[] = [];
    for (const h of own) {
      const hostFindings = h.agent_run_id ? findingsOf(h.agent_run_id, SCOPE_FINDINGS_PER_HOST) : [];
      findings.push(...hostFindings);
      byNode[h.host] = { status: h.status, result: h.result ?? {}, findings: hostFindings };
    }
    scope[step.step_id] = { status: step.status, result: step.result ?? {}, findings, nodes: own.map((h) => h.host), byNode };
  }
  return scope;
}
