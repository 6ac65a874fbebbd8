import type { UiEvent } from './events.js';
import type { ConsoleState } from './state.js';
import { frameKey, type UiState, type ViewFrame } from './ui-state.js';

/** The frame on screen: the top of the stack. */
export function currentFrame(ui: UiState): ViewFrame {
  return ui.stack[ui.stack.length - 1] ?? { view: 'fleet' };
}

/** `record` with `key` set to `value`, or itself when it already holds it. */
function withKey<V>(record: Readonly<Record<string, V>>, key: string, value: V): Readonly<Record<string, V>> {
  return record[key] === value ? record : { ...record, [key]: value };
}

/** `record` without `key`, or itself when it has none. */
function withoutKey<V>(record: Readonly<Record<string, V>>, key: string): Readonly<Record<string, V>> {
  if (!Object.hasOwn(record, key)) return record;
  const next = { ...record };
  delete next[key];
  return next;
}

/** The navigation state after a key's event; the same object when nothing changed. */
export function reduceUiState(ui: UiState, e: UiEvent): UiState {
  switch (e.type) {
    case 'ui/push':
      return { ...ui, stack: [...ui.stack, e.frame] };
    case 'ui/pop':
      return ui.stack.length <= 1 ? ui : { ...ui, stack: ui.stack.slice(0, -1) };
    case 'ui/jump': {
      const only = ui.stack[0];
      return ui.stack.length === 1 && only?.view === e.view && only.key === undefined && only.filter === undefined
        ? ui
        : { ...ui, stack: [{ view: e.view }] };
    }
    case 'ui/select': {
      const selection = withKey(ui.selection, frameKey(currentFrame(ui)), e.index);
      return selection === ui.selection ? ui : { ...ui, selection };
    }
    case 'ui/filter': {
      const key = frameKey(currentFrame(ui));
      const filters = e.text === '' ? withoutKey(ui.filters, key) : withKey(ui.filters, key, e.text);
      return filters === ui.filters ? ui : { ...ui, filters };
    }
    case 'ui/sort': {
      const was = ui.sort[e.view];
      // A new column sorts ascending; the same column again flips the direction.
      const desc = was !== undefined && was.column === e.column ? !was.desc : false;
      return { ...ui, sort: { ...ui.sort, [e.view]: { column: e.column, desc } } };
    }
    case 'ui/prompt':
      return ui.prompt === e.prompt ? ui : { ...ui, prompt: e.prompt };
    case 'ui/findings-mode':
      return ui.findingsMode === e.mode ? ui : { ...ui, findingsMode: e.mode };
    case 'ui/runs-mode':
      return ui.runsMode === e.mode ? ui : { ...ui, runsMode: e.mode };
    case 'ui/confirm':
      return ui.confirm === e.confirm ? ui : { ...ui, confirm: e.confirm };
    case 'ui/help':
      return ui.help === e.open ? ui : { ...ui, help: e.open };
    case 'ui/flash':
      return ui.flash === e.flash ? ui : { ...ui, flash: e.flash };
    case 'ui/flash-clear':
      return ui.flash !== null && ui.flash.at === e.at ? { ...ui, flash: null } : ui;
  }
}

/** Applies a key's event to the state. */
export function reduceUi(state: ConsoleState, e: UiEvent): ConsoleState {
  const ui = reduceUiState(state.ui, e);
  return ui === state.ui ? state : { ...state, ui };
}
