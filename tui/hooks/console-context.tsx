import { createContext, useContext, useSyncExternalStore, type ReactNode } from 'react';
import type { ConsoleActions } from '../client/actions.js';
import type { ConsoleStore } from '../store/console-store.js';
import type { ConsoleEvent } from '../store/events.js';
import type { ConsoleState } from '../store/state.js';

/** What every component may reach: the store (read through selectors), the actions, and the clock. */
export interface ConsoleContextValue {
  store: ConsoleStore;
  actions: ConsoleActions;
  /** Wall clock in ms; tests inject a fixed one so frames are stable. */
  now(): number;
}

const ConsoleContext = createContext<ConsoleContextValue | null>(null);

/** Provides the store, actions and clock to the component tree. */
export function ConsoleProvider(props: { value: ConsoleContextValue; children: ReactNode }) {
  return <ConsoleContext.Provider value={props.value}>{props.children}</ConsoleContext.Provider>;
}

function useConsoleContext(): ConsoleContextValue {
  const value = useContext(ConsoleContext);
  if (value === null) throw new Error('console hooks need a <ConsoleProvider>');
  return value;
}

/**
 * A slice of the state. The selector must return a value that keeps its identity while the slice is unchanged
 * (a field of the state, not a freshly built array), or the component re-renders on every store change.
 */
export function useConsole<T>(selector: (state: ConsoleState) => T): T {
  const { store } = useConsoleContext();
  return useSyncExternalStore(store.subscribe, () => selector(store.getState()));
}

/** Sends an event to the store (key handlers: `ui/*` events). */
export function useDispatch(): (event: ConsoleEvent) => void {
  return useConsoleContext().store.dispatch;
}

/** The CP-side actions (triage, approve, dispatch…). */
export function useActions(): ConsoleActions {
  return useConsoleContext().actions;
}

/**
 * Reads the store's current state at call time. For key handlers only: a burst of keys in one input chunk is
 * handled before React re-renders, so each key must see the state the previous one left. Components render from
 * `useConsole`.
 */
export function useGetState(): () => ConsoleState {
  const { store } = useConsoleContext();
  return () => store.getState();
}

/** The clock (`now()` in ms). */
export function useClock(): () => number {
  return useConsoleContext().now;
}
