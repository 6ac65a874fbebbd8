import type { ConsoleEvent } from './events.js';
import type { ConsoleState } from './state.js';

/** The pure transition function (tui/store/reduce.ts). */
export type Reducer = (state: ConsoleState, event: ConsoleEvent) => ConsoleState;

/** The console's single source of truth: the current state, events in, listeners notified after each change. */
export interface ConsoleStore {
  getState(): ConsoleState;
  /** Applies one event; listeners run once if the state changed. */
  dispatch(event: ConsoleEvent): void;
  /** Applies events in order; listeners run once at the end if anything changed. */
  dispatchMany(events: readonly ConsoleEvent[]): void;
  subscribe(listener: () => void): () => void;
}

/** A store over `reduce`, starting at `initial`. */
export function createConsoleStore(initial: ConsoleState, reduce: Reducer): ConsoleStore {
  let state = initial;
  const listeners = new Set<() => void>();
  const apply = (events: readonly ConsoleEvent[]): void => {
    const before = state;
    for (const event of events) state = reduce(state, event);
    if (state !== before) for (const listener of [...listeners]) listener();
  };
  return {
    getState: () => state,
    dispatch: (event) => apply([event]),
    dispatchMany: apply,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
