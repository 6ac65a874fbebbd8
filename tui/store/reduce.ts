import type { ConsoleEvent, UiEvent } from './events.js';
import { reduceData } from './reduce-data.js';
import { reduceUi } from './reduce-ui.js';
import type { ConsoleState } from './state.js';

/** True for the events keys send (`ui/*`). */
export function isUiEvent(event: ConsoleEvent): event is UiEvent {
  return event.type.startsWith('ui/');
}

/**
 * The console's transition function: pure, never mutates `state`, and keeps the identity of every slice the event
 * did not change (so hooks selecting it do not re-render). An event that changes nothing returns `state` itself.
 */
export function reduce(state: ConsoleState, event: ConsoleEvent): ConsoleState {
  return isUiEvent(event) ? reduceUi(state, event) : reduceData(state, event);
}
