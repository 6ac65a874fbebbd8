import { useActions, useClock, useDispatch } from '../../hooks/console-context.js';
import { askConfirm } from '../../keys/confirm.js';
import { flashEvent } from '../../keys/key-context.js';
import { useViewKeys } from '../../keys/view-keys.js';
import type { ViewFrame } from '../../store/ui-state.js';
import { currentSelection } from '../selection.js';
import { isActiveRun } from '../runs/runs-rows.js';
import { cursorRunId, runCursors, waitingStep } from './run-rows.js';
import type { Follow } from './use-follow.js';

/** Which run a run frame shows: `orch:<id>` or `agent:<run id>`. */
export type RunRef = { kind: 'orch' | 'agent'; id: string };

/** Parses a run frame's key (a bare id counts as an agent run). */
export function parseRunKey(key: string | undefined): RunRef {
  const k = key ?? '';
  if (k.startsWith('orch:')) return { kind: 'orch', id: k.slice(5) };
  return { kind: 'agent', id: k.startsWith('agent:') ? k.slice(6) : k };
}

/** What a confirmed approve / reject / cancel carries back. */
type Decision = { runId: string; step: string } | { cancel: RunRef };

/**
 * The run view's keys. On an orchestration run: j/k move over the step hosts, enter opens the selected host's agent
 * run, `t` follows its transcript, `a`/`r` approve / reject the waiting step after a confirm, `c` cancels the run
 * after a confirm. On an agent run: `t` toggles following its transcript, `c` cancels it.
 */
export function useRunKeys(frame: ViewFrame, ref: RunRef, rows: number | undefined, page: number, follow: Follow): void {
  const dispatch = useDispatch();
  const actions = useActions();
  const now = useClock();
  const flash = (text: string): void => dispatch(flashEvent(text, 'warn', now()));
  useViewKeys({
    rows,
    page,
    onKey(binding, _name, state) {
      const id = binding?.id ?? '';
      if (ref.kind === 'agent') {
        const run = state.runs.get(ref.id);
        if (id === 'run.follow') return follow.toggle(ref.id);
        if (id === 'run.cancel') return cancel(run?.status, run === undefined);
        if (id === 'run.approve' || id === 'run.reject') return flash('an agent run has no steps to approve');
        return;
      }
      const run = state.orchestrationRuns.get(ref.id);
      if (run === undefined) return;
      const cursors = runCursors(run);
      const runId = cursorRunId(run, cursors[currentSelection(state, frame, cursors.length)]);
      switch (id) {
        case 'global.open':
          if (runId !== undefined) dispatch({ type: 'ui/push', frame: { view: 'run', key: `agent:${runId}` } });
          return;
        case 'run.follow':
          return runId === undefined ? flash('this step host has no agent run yet') : follow.toggle(runId);
        case 'run.approve':
        case 'run.reject': {
          const step = waitingStep(run);
          if (step === undefined) return flash(`no step of ${run.id} is waiting for approval`);
          const payload: Decision = { runId: run.id, step: step.id };
          return dispatch(askConfirm(id, { step: step.id, run: run.name }, payload));
        }
        case 'run.cancel':
          return cancel(run.status, false);
        default:
          return;
      }
    },
    onConfirm(bindingId, payload) {
      const p = payload as Decision;
      if ('cancel' in p) void (p.cancel.kind === 'orch' ? actions.cancelOrchestrationRun(p.cancel.id) : actions.cancelRun(p.cancel.id));
      else if (bindingId === 'run.approve') void actions.approveStep(p.runId, p.step);
      else if (bindingId === 'run.reject') void actions.rejectStep(p.runId, p.step);
    },
  });

  function cancel(status: string | undefined, unknown: boolean): void {
    // A run not loaded may still be running: let the CP decide.
    if (!unknown && status !== undefined && !isActiveRun(status)) return flash(`${ref.id} already ended (${status})`);
    const payload: Decision = { cancel: ref };
    dispatch(askConfirm('run.cancel', { run: ref.id }, payload));
  }
}
