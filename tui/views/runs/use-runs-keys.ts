import { useActions, useClock, useDispatch } from '../../hooks/console-context.js';
import { askConfirm } from '../../keys/confirm.js';
import { useViewKeys } from '../../keys/view-keys.js';
import { flashEvent } from '../../keys/key-context.js';
import type { ViewFrame } from '../../store/ui-state.js';
import { currentSelection } from '../selection.js';
import { isActiveRun } from './runs-rows.js';
import { selectAgentRuns, selectOrchestrationRuns } from './runs-select.js';

/** What a confirmed cancel carries back. */
interface CancelPayload {
  kind: 'orchestration' | 'agent';
  id: string;
}

/**
 * The runs view's keys: `tab` switches orchestration runs / agent runs, enter opens the selected run, `c` cancels
 * it after a confirm (a run that already ended says so instead).
 */
export function useRunsKeys(frame: ViewFrame, rows: number, page: number): void {
  const dispatch = useDispatch();
  const actions = useActions();
  const now = useClock();
  useViewKeys({
    rows,
    page,
    onKey(binding, _name, state) {
      const id = binding?.id;
      if (id === 'runs.mode') {
        dispatch({ type: 'ui/runs-mode', mode: state.ui.runsMode === 'orchestrations' ? 'agents' : 'orchestrations' });
        return dispatch({ type: 'ui/select', index: 0 });
      }
      let selected: (CancelPayload & { status: string }) | undefined;
      if (state.ui.runsMode === 'orchestrations') {
        const list = selectOrchestrationRuns(state, frame);
        const r = list[currentSelection(state, frame, list.length)];
        if (r !== undefined) selected = { kind: 'orchestration', id: r.id, status: r.status };
      } else {
        const list = selectAgentRuns(state, frame);
        const r = list[currentSelection(state, frame, list.length)];
        if (r !== undefined) selected = { kind: 'agent', id: r.run_id, status: r.status };
      }
      if (selected === undefined) return;
      if (id === 'global.open') {
        return dispatch({ type: 'ui/push', frame: { view: 'run', key: `${selected.kind === 'orchestration' ? 'orch' : 'agent'}:${selected.id}` } });
      }
      if (id === 'runs.cancel') {
        if (!isActiveRun(selected.status)) return dispatch(flashEvent(`${selected.id} already ended (${selected.status})`, 'warn', now()));
        const payload: CancelPayload = { kind: selected.kind, id: selected.id };
        dispatch(askConfirm(id, { run: selected.id }, payload));
      }
    },
    onConfirm(bindingId, payload) {
      if (bindingId !== 'runs.cancel') return;
      const p = payload as CancelPayload;
      void (p.kind === 'orchestration' ? actions.cancelOrchestrationRun(p.id) : actions.cancelRun(p.id));
    },
  });
}
