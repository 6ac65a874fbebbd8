import type { OrchestrationRunView, OrchestrationView, StepView } from '../../protocol/orchestration-api.js';
import { formatDuration } from '../../protocol/duration.js';
import { formatUtcSeconds, oneLine } from '../format.js';
import { truncate } from '../output.js';
import type { Column, Tone } from '../output.js';

/** Run states after which nothing changes any more. */
export const ORCHESTRATION_END_STATES: readonly OrchestrationRunView['status'][] = ['completed', 'failed', 'cancelled'];

/** True for completed, failed and cancelled. */
export function isRunOver(run: OrchestrationRunView): boolean {
  return ORCHESTRATION_END_STATES.includes(run.status);
}

/** The colour meaning of a run or step state. */
export function stateTone(state: string): Tone | undefined {
  if (state === 'completed') return 'ok';
  if (state === 'failed') return 'error';
  if (state === 'approval_required' || state === 'waiting_approval') return 'warn';
  if (state === 'cancelled' || state === 'skipped') return 'muted';
  return undefined;
}

/** A value as compact JSON, cut to `max` characters. */
export function compactJson(value: unknown, max: number): string {
  return truncate(JSON.stringify(value) ?? 'null', max);
}

/** Triggers as `cron 0 * * * *; finding <filter>` (`manual` when there are none). */
export function formatTriggers(triggers: OrchestrationView['triggers']): string {
  if (triggers.length === 0) return 'manual';
  return triggers.map((t) => (t.type === 'cron' ? `cron ${t.cron ?? ''}` : `finding ${oneLine(t.filter ?? '')}`)).join('; ');
}

/** Table columns of `okesu orchestrate list`. */
export const ORCHESTRATION_COLUMNS: Column<OrchestrationView>[] = [
  { header: 'NAME', value: (o) => o.name, max: 40 },
  { header: 'STEPS', value: (o) => o.steps.map((s) => s.id).join(','), max: 40 },
  { header: 'TRIGGERS', value: (o) => formatTriggers(o.triggers), max: 50 },
  { header: 'UPDATED', value: (o) => formatUtcSeconds(o.updated_at) },
  { header: 'BY', value: (o) => o.updated_by, max: 20 },
  { header: 'DESCRIPTION', value: (o) => o.description || '-', flex: true },
];

/** The step a run is at: the one waiting or running, else the last one that ended. */
export function currentStep(run: OrchestrationRunView): StepView | undefined {
  const active = run.steps.find((s) => s.status === 'running' || s.status === 'waiting_approval');
  if (active) return active;
  return [...run.steps].reverse().find((s) => s.status !== 'pending') ?? run.steps[0];
}

/** Table columns of `okesu orchestrate runs`. */
export const ORCHESTRATION_RUN_COLUMNS: Column<OrchestrationRunView>[] = [
  { header: 'RUN', value: (r) => r.id },
  { header: 'CREATED', value: (r) => formatUtcSeconds(r.created_at) },
  { header: 'ORCHESTRATION', value: (r) => r.name, max: 32 },
  { header: 'STATUS', value: (r) => r.status, tone: (r) => stateTone(r.status) },
  {
    header: 'STEP',
    value: (r) => {
      const step = currentStep(r);
      return step ? `${step.id} ${step.status}` : '-';
    },
    max: 40,
  },
  { header: 'BY', value: (r) => r.triggered_by, max: 24 },
  { header: 'ERROR', value: (r) => r.error ?? '-', max: 60, flex: true },
];

const hostList = (step: StepView): string => {
  const names = step.hosts.map((h) => h.host);
  return names.length <= 5 ? names.join(', ') : `${names.length} hosts`;
};

/** The line of a step that reached `status`: `step scan running on web-1`, `step contain waiting for approval: <prompt>`… */
export function stepLine(step: StepView): string | undefined {
  const head = `step ${step.id}`;
  switch (step.status) {
    case 'pending':
      return undefined;
    case 'running':
      return step.hosts.length > 0 ? `${head} running on ${hostList(step)}` : `${head} running`;
    case 'waiting_approval':
      return `${head} waiting for approval: ${truncate(oneLine(step.prompt ?? ''), 300)}`.trimEnd();
    case 'completed': {
      const done = step.hosts.length > 1 ? ` on ${step.hosts.length} hosts` : '';
      return step.result && Object.keys(step.result).length > 0 ? `${head} completed${done}: ${compactJson(step.result, 200)}` : `${head} completed${done}`;
    }
    case 'failed':
      return `${head} failed${step.error ? `: ${oneLine(step.error)}` : ''}`;
    case 'skipped':
      return `${head} skipped${step.error ? `: ${oneLine(step.error)}` : ''}`;
  }
}

/** The final line of a run: `orchestration run o_… completed in 42s` (with the error when it failed). */
export function runEndLine(run: OrchestrationRunView): string {
  const took = run.ended_at !== null ? ` in ${formatDuration(Math.max(0, run.ended_at - run.created_at))}` : '';
  return `orchestration run ${run.id} ${run.status}${took}${run.error ? `: ${oneLine(run.error)}` : ''}`;
}

/** What changed in the steps between two views of one run, one line per change, in step order (the run's end is `runEndLine`). */
export function transitionLines(prev: OrchestrationRunView | undefined, next: OrchestrationRunView): string[] {
  const lines: string[] = [];
  for (const step of next.steps) {
    const before = prev?.steps.find((s) => s.id === step.id);
    if (step.hosts.length > 1) {
      for (const h of step.hosts) {
        const was = before?.hosts.find((b) => b.host === h.host);
        if (was?.status === h.status || (h.status !== 'completed' && h.status !== 'failed')) continue;
        lines.push(`step ${step.id}: ${h.host} ${h.status}${h.error ? `: ${oneLine(h.error)}` : ''}`);
      }
    }
    if (before?.status === step.status) continue;
    const line = stepLine(step);
    if (line !== undefined) lines.push(line);
  }
  return lines;
}

/** The human report of `okesu orchestrate show`: the run, then each step with its rendered prompt, hosts and results. */
export function formatRunDetail(run: OrchestrationRunView): string[] {
  const lines = [`${run.id}  ${run.name}  ${run.status}`];
  lines.push(`  created ${formatUtcSeconds(run.created_at)} by ${run.triggered_by}${run.ended_at !== null ? `, ended ${formatUtcSeconds(run.ended_at)}` : ''}`);
  if (Object.keys(run.trigger).length > 0) lines.push(`  trigger: ${compactJson(run.trigger, 500)}`);
  if (run.error) lines.push(`  error: ${oneLine(run.error)}`);
  for (const step of run.steps) {
    const took = step.started_at !== null && step.ended_at !== null ? ` in ${formatDuration(Math.max(0, step.ended_at - step.started_at))}` : '';
    lines.push('', `step ${step.id}  ${step.agent}  ${step.status}${took}`);
    if (step.prompt !== null) lines.push(`  prompt: ${truncate(oneLine(step.prompt), 1000)}`);
    if (step.inputs !== null && Object.keys(step.inputs).length > 0) lines.push(`  inputs: ${compactJson(step.inputs, 500)}`);
    if (step.decided_by) lines.push(`  decided by: ${step.decided_by}`);
    if (step.error) lines.push(`  error: ${oneLine(step.error)}`);
    if (step.status === 'waiting_approval') {
      lines.push(`  approve: okesu orchestrate approve ${run.id} ${step.id}   reject: okesu orchestrate reject ${run.id} ${step.id} --reason TEXT`);
    }
    const width = Math.max(4, ...step.hosts.map((h) => h.host.length));
    for (const h of step.hosts) {
      const findings = `${h.findings} finding${h.findings === 1 ? '' : 's'}`;
      lines.push(`  ${h.host.padEnd(width)}  ${h.status.padEnd(9)}  ${h.run_id ?? '-'}  ${findings}${h.error ? `  error: ${oneLine(h.error)}` : ''}`);
      if (h.result !== null && step.hosts.length > 1) lines.push(`    result: ${compactJson(h.result, 1000)}`);
    }
    if (step.result !== null) lines.push(`  result: ${compactJson(step.result, 1000)}`);
  }
  return lines;
}
