import type { ViewFrame } from '../store/ui-state.js';

/** What the shell gives every view: its stack frame and the room it has (columns × rows). */
export interface ViewProps {
  frame: ViewFrame;
  width: number;
  height: number;
}
