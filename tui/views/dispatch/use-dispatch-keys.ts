import { useActions, useClock, useDispatch } from '../../hooks/console-context.js';
import { askConfirm } from '../../keys/confirm.js';
import { flashEvent } from '../../keys/key-context.js';
import { useViewKeys } from '../../keys/view-keys.js';
import type { ConsoleActions } from '../../client/actions.js';
import type { ConsoleEvent } from '../../store/events.js';
import { focusedField, formChoice, formKey, type DispatchForm } from './dispatch-form.js';
import { planDispatch, type DispatchPlan } from './dispatch-request.js';
import type { Choice } from './dispatch-rows.js';

/** The form's state as the keys hook needs it: read the latest (keys of one chunk come before a render) and set it. */
export interface FormHandle {
  get(): DispatchForm;
  set(form: DispatchForm): void;
}

/**
 * The dispatch view's keys. While a text field has focus the view captures every key (typed characters go to the
 * field, so q, j, / and friends do not fire); on the "run" line the usual keys work. enter runs the form (binding
 * `dispatch.run`), asking to confirm first when it reaches more than one host, a selector or an orchestration.
 */
export function useDispatchKeys(all: readonly Choice[], form: FormHandle): void {
  const dispatch = useDispatch();
  const actions = useActions();
  const now = useClock();
  const current = form.get();
  useViewKeys({
    capture: focusedField(current, all).field.id !== 'run',
    onKey(_binding, name) {
      const step = formKey(form.get(), all, name);
      form.set(step.form);
      if (step.back) return dispatch({ type: 'ui/pop' });
      if (!step.submit) return;
      const plan = planDispatch(formChoice(step.form, all), step.form.values);
      if (!plan.ok) return dispatch(flashEvent(plan.error, 'warn', now()));
      if (plan.confirm) return dispatch(askConfirm('dispatch.run', { what: plan.what, targets: plan.targets }, plan));
      void run(plan, actions, dispatch);
    },
    onConfirm(bindingId, payload) {
      if (bindingId === 'dispatch.run') void run(payload as DispatchPlan, actions, dispatch);
    },
  });
}

/** Sends the request and lands on what it started: the run view, or the agent runs of a fan-out. */
async function run(plan: DispatchPlan, actions: ConsoleActions, dispatch: (e: ConsoleEvent) => void): Promise<void> {
  if (!plan.ok) return;
  if (plan.kind === 'orchestration') {
    const id = await actions.startOrchestration(plan.request);
    if (id !== undefined) dispatch({ type: 'ui/push', frame: { view: 'run', key: `orch:${id}` } });
    return;
  }
  const ids = await actions.dispatchAgent(plan.request);
  if (ids.length === 1) return dispatch({ type: 'ui/push', frame: { view: 'run', key: `agent:${ids[0]!}` } });
  if (ids.length > 1) {
    dispatch({ type: 'ui/runs-mode', mode: 'agents' });
    dispatch({ type: 'ui/push', frame: { view: 'runs', filter: `agent:${plan.request.agent}` } });
  }
}
