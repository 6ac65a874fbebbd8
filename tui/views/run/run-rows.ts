import type { OrchestrationRunView, StepView } from '../../../src/protocol/orchestration-api.js';
import { palette, type Palette } from '../../theme.js';

/** One host of a step. */
export type StepHost = StepView['hosts'][number];

/**
 * A step host's dot: a distinct glyph per state so the fan-out reads without colour —
 * `●` completed, `✗` failed, `…` running, `◌` pending.
 */
export function hostDot(status: StepHost['status'], p: Palette = palette): { glyph: string; color: string | undefined } {
  switch (status) {
    case 'completed': return { glyph: '●', color: p.ok };
    case 'failed': return { glyph: '✗', color: p.error };
    case 'running': return { glyph: '…', color: p.pending };
    case 'pending': return { glyph: '◌', color: p.muted };
  }
}

/** Hosts that finished (completed or failed) and the total. */
export function hostProgress(hosts: readonly StepHost[]): { done: number; failed: number; total: number } {
  let done = 0;
  let failed = 0;
  for (const h of hosts) {
    if (h.status === 'completed') done++;
    else if (h.status === 'failed') {
      done++;
      failed++;
    }
  }
  return { done, failed, total: hosts.length };
}

/** `[██████░░░░] 6/10`: a bar of `width` cells filling as hosts finish (never full before every host has). */
export function progressBar(done: number, total: number, width: number): string {
  const cells = Math.max(1, width);
  let filled = total === 0 ? 0 : Math.round((done / total) * cells);
  if (done < total) filled = Math.min(filled, cells - 1);
  return `[${'█'.repeat(filled)}${'░'.repeat(cells - filled)}] ${done}/${total}`;
}

/** The step waiting for an approval, if any. */
export function waitingStep(run: OrchestrationRunView): StepView | undefined {
  return run.steps.find((s) => s.status === 'waiting_approval');
}

/** One selectable line of the run view: a step, or one host of a step (`host` indexes `step.hosts`). */
export interface RunCursor {
  step: number;
  host: number | null;
}

/** What j/k move through: each step's hosts, or the step itself when it has none yet. */
export function runCursors(run: OrchestrationRunView): RunCursor[] {
  const out: RunCursor[] = [];
  run.steps.forEach((s, step) => {
    if (s.hosts.length === 0) out.push({ step, host: null });
    else s.hosts.forEach((_, host) => out.push({ step, host }));
  });
  return out;
}

/** Where the cursor starts: on the step waiting for approval, else the first running one, else the top. */
export function initialCursor(run: OrchestrationRunView, cursors: readonly RunCursor[]): number {
  for (const status of ['waiting_approval', 'running'] as const) {
    const at = cursors.findIndex((c) => run.steps[c.step]?.status === status);
    if (at >= 0) return at;
  }
  return 0;
}

/** The agent run id of the cursor's host (`t` follows it), if it has been dispatched. */
export function cursorRunId(run: OrchestrationRunView, cursor: RunCursor | undefined): string | undefined {
  if (!cursor || cursor.host === null) return undefined;
  return run.steps[cursor.step]?.hosts[cursor.host]?.run_id ?? undefined;
}

/** A step's time as a duration (`12s`) once it started, from `now` while it runs. */
export function stepDuration(s: StepView, now: number): number | undefined {
  return s.started_at === null ? undefined : (s.ended_at ?? now) - s.started_at;
}

/** A JSON value on one line for the inputs / targets lists (strings as they are). */
export function inlineValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}

/** A run's trigger fields (its inputs, and what a cron or finding trigger bound) as `k=v` words, or `-`. */
export function triggerText(trigger: Record<string, unknown>): string {
  const entries = Object.entries(trigger);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${inlineValue(v)}`).join(' ');
}
