import { createContext, useContext, useLayoutEffect, useRef, type ReactNode } from 'react';
import type { ConsoleState } from '../store/state.js';
import type { Binding } from './bindings.js';

/**
 * How a view takes part in key handling. The shell owns the one `useInput` (so keys of a chunk like `jjd` are
 * handled in order, each against the state the previous one left): it handles the global keys itself and hands
 * the view the rest. A view registers with `useViewKeys({...})` from its `use-xxx-keys.ts` hook:
 *
 * - `onKey(binding, name, state)`: a key bound in the view's scopes (or a global binding the shell leaves to views:
 *   `global.open` = enter), enabled for the role. Disabled keys never arrive: the shell flashes why. `state` is the
 *   store's current state (fresher than the last render when keys come in a burst).
 * - `rows` / `page`: the length of the list on screen and a page's size; the shell's j/k/g/G/pageup/pagedown move
 *   `ui.selection` within it (clamped). Omit for views without a list.
 * - `onConfirm(bindingId, payload, state)`: the operator answered `y` to a `ui/confirm` the view raised (see
 *   `askConfirm` in confirm.ts); `n` / esc just close it.
 * - `capture`: while true (a text field has focus) every key goes to `onKey` (binding undefined unless the key is
 *   bound in the view's scopes; `name` as in key-name.ts, printable characters one by one); the shell keeps only
 *   ctrl+c, the confirm line and the help overlay.
 */
export interface ViewKeys {
  onKey?(binding: Binding | undefined, name: string, state: ConsoleState): void;
  onConfirm?(bindingId: string, payload: unknown, state: ConsoleState): void;
  rows?: number;
  page?: number;
  capture?: boolean;
}

/** The shell's slot holding the current view's registration. */
export interface ViewKeysSlot {
  current: ViewKeys | null;
}

const ViewKeysContext = createContext<ViewKeysSlot | null>(null);

/** Provides the slot views register into (the shell renders it around the current view). */
export function ViewKeysProvider(props: { slot: ViewKeysSlot; children: ReactNode }) {
  return <ViewKeysContext.Provider value={props.slot}>{props.children}</ViewKeysContext.Provider>;
}

/** A stable slot for the shell (one per App). */
export function useViewKeysSlot(): ViewKeysSlot {
  return useRef<ViewKeys | null>(null);
}

/**
 * Registers the calling view's key handling with the shell (see ViewKeys). Call it on every render with the
 * current handlers and row count; the registration is dropped when the view unmounts. Outside a shell (a view
 * rendered alone) it does nothing.
 */
export function useViewKeys(keys: ViewKeys): void {
  const slot = useContext(ViewKeysContext);
  useLayoutEffect(() => {
    if (slot === null) return undefined;
    slot.current = keys;
    return () => {
      if (slot.current === keys) slot.current = null;
    };
  });
}
