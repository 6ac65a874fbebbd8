import { useInput } from 'ink';
import { useActions, useClock, useDispatch, useGetState } from '../hooks/console-context.js';
import { handleKey } from './handle-key.js';
import type { HelpScroll } from './key-context.js';
import { keyNames } from './key-name.js';
import type { ViewKeysSlot } from './view-keys.js';

/**
 * The console's one `useInput`: splits each input chunk into key names and handles them in order (handle-key.ts):
 * global keys here, view keys through the view's `useViewKeys` registration (view-keys.tsx).
 */
export function useGlobalKeys(view: ViewKeysSlot, help: HelpScroll): void {
  const getState = useGetState();
  const dispatch = useDispatch();
  const actions = useActions();
  const now = useClock();
  useInput((input, key) => {
    const ctx = { getState, dispatch, actions, now, view, help };
    for (const name of keyNames(input, key)) handleKey(name, ctx);
  });
}
