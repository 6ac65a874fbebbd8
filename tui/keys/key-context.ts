import type { ConsoleActions } from '../client/actions.js';
import type { ConsoleEvent } from '../store/events.js';
import type { ConsoleState } from '../store/state.js';
import type { Flash } from '../store/ui-state.js';
import type { ViewKeysSlot } from './view-keys.js';

/** The help overlay's scroll position (held by the shell, clamped by the overlay). */
export interface HelpScroll {
  get(): number;
  set(line: number): void;
}

/** What handling a key may touch. */
export interface KeyContext {
  getState(): ConsoleState;
  dispatch(event: ConsoleEvent): void;
  actions: ConsoleActions;
  now(): number;
  view: ViewKeysSlot;
  help: HelpScroll;
}

/** A flash event dated `at`. */
export function flashEvent(text: string, level: Flash['level'], at: number): ConsoleEvent {
  return { type: 'ui/flash', flash: { text, level, at } };
}

