import type { RunView } from '../../../src/protocol/api.js';
import type { OrchestrationRunView, StepView } from '../../../src/protocol/orchestration-api.js';
import type { Column, Row } from '../../components/table-layout.js';
import { formatAge, formatTime } from '../../components/text.js';
import { palette, statusStyle, type Palette } from '../../theme.js';
import { runStatusText } from '../../../src/protocol/host-transport.js';

/**
 * True when every space-separated word of `filter` matches: `key:value` compares a named field exactly (any case),
 * a bare word is a substring of any field.
 */
export function matchesFields(fields: Readonly<Record<string, string>>, filter: string): boolean {
  return filter
    .trim()
    .split(/\s+/)
    .every((word) => {
      if (word === '') return true;
      const colon = word.indexOf(':');
      const key = colon > 0 ? word.slice(0, colon).toLowerCase() : '';
      if (colon > 0 && Object.hasOwn(fields, key)) return fields[key]!.toLowerCase() === word.slice(colon + 1).toLowerCase();
      const needle = word.toLowerCase();
      return Object.values(fields).some((v) => v.toLowerCase().includes(needle));
    });
}

const ENDED_STEP: ReadonlySet<StepView['status']> = new Set(['completed', 'failed', 'skipped']);

/** The step a run is at: the one running or waiting for approval, else the last that started; undefined before any. */
export function currentStep(run: OrchestrationRunView): StepView | undefined {
  const active = run.steps.find((s) => s.status === 'running' || s.status === 'waiting_approval');
  if (active) return active;
  for (let i = run.steps.length - 1; i >= 0; i--) if (run.steps[i]!.status !== 'pending') return run.steps[i];
  return undefined;
}

/** Steps that ended (completed, failed or skipped) and the total. */
export function stepProgress(run: OrchestrationRunView): { done: number; total: number } {
  return { done: run.steps.filter((s) => ENDED_STEP.has(s.status)).length, total: run.steps.length };
}

/** Columns of the orchestration runs list; the start time only when `wide` (below 100 columns the age says enough). */
export function orchestrationRunColumns(wide: boolean): readonly Column[] {
  return [
    { id: 'id', title: 'ID' },
    { id: 'name', title: 'ORCHESTRATION', grow: true },
    { id: 'state', title: 'STATE', width: 11 },
    { id: 'step', title: 'STEP' },
    { id: 'progress', title: 'STEPS', align: 'right' },
    ...(wide ? [{ id: 'started', title: 'STARTED' }] : []),
    { id: 'age', title: 'AGE', align: 'right' },
  ];
}

/** Orchestration runs matching `filter` (fields id, name, state, step, by), newest first. */
export function orchestrationRunList(runs: ReadonlyMap<string, OrchestrationRunView>, filter: string): OrchestrationRunView[] {
  const out = [...runs.values()].filter(
    (r) => filter === '' || matchesFields({ id: r.id, name: r.name, state: r.status, step: currentStep(r)?.id ?? '', by: r.triggered_by }, filter),
  );
  return out.sort((a, b) => b.created_at - a.created_at || b.id.localeCompare(a.id));
}

/** One orchestration run row: id, name, state glyph + word, current step, steps done/total, started (when `wide`), age. */
export function orchestrationRunRow(r: OrchestrationRunView, now: number, wide = true, p: Palette = palette): Row {
  const state = statusStyle(r.status, p);
  const { done, total } = stepProgress(r);
  const step = currentStep(r);
  return {
    key: r.id,
    cells: [r.id, r.name, `${state.glyph} ${state.word}`, step ? step.id : '-', `${done}/${total}`, ...(wide ? [formatTime(r.created_at, now)] : []), formatAge(now - r.created_at)],
    colors: [undefined, undefined, state.color],
    dim: r.status === 'cancelled',
  };
}

/** Columns of the agent (ad-hoc) runs list. */
export const AGENT_RUN_COLUMNS: readonly Column[] = [
  { id: 'id', title: 'RUN' },
  { id: 'host', title: 'HOST' },
  { id: 'agent', title: 'AGENT' },
  { id: 'status', title: 'STATUS', width: 11 },
  { id: 'findings', title: 'FINDINGS', align: 'right' },
  { id: 'age', title: 'AGE', align: 'right' },
  { id: 'error', title: 'ERROR', grow: true },
];

/** Agent runs matching `filter` (fields id, host, agent, status, by), newest first. */
export function agentRunList(runs: ReadonlyMap<string, RunView>, filter: string): RunView[] {
  const out = [...runs.values()].filter(
    (r) => filter === '' || matchesFields({ id: r.run_id, host: r.host, agent: r.agent, status: r.status, by: r.created_by }, filter),
  );
  return out.sort((a, b) => b.created_at - a.created_at || b.run_id.localeCompare(a.run_id));
}

/** One agent run row: id, host, agent, status glyph + word, findings, age, error. */
export function agentRunRow(r: RunView, now: number, p: Palette = palette): Row {
  const status = statusStyle(r.status, p);
  return {
    key: r.run_id,
    cells: [r.run_id, r.host, r.agent, `${status.glyph} ${runStatusText(r, status.word)}`, String(r.findings), formatAge(now - r.created_at), r.error ?? ''],
    colors: [undefined, undefined, undefined, status.color, undefined, undefined, r.error ? p.error : undefined],
  };
}

/** True when a run can still be cancelled. */
export function isActiveRun(status: string): boolean {
  return ['pending', 'dispatched', 'running', 'approval_required'].includes(status);
}
