import type { ConsoleState } from '../store/state.js';
import { frameKey, type ViewFrame } from '../store/ui-state.js';

/** The selected row of `frame` clamped to a list of `count` rows (-1 when the list is empty). */
export function currentSelection(state: ConsoleState, frame: ViewFrame, count: number): number {
  if (count <= 0) return -1;
  return Math.max(0, Math.min(state.ui.selection[frameKey(frame)] ?? 0, count - 1));
}
