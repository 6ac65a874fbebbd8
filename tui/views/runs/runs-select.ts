import type { RunView } from '../../../src/protocol/api.js';
import type { OrchestrationRunView } from '../../../src/protocol/orchestration-api.js';
import type { ConsoleState } from '../../store/state.js';
import { frameKey, type ViewFrame } from '../../store/ui-state.js';
import { memoLast } from '../findings/memo-last.js';
import { agentRunList, orchestrationRunList } from './runs-rows.js';

const orchestrations = memoLast(orchestrationRunList);
const agents = memoLast(agentRunList);

/** The frame's filter: its own (from a drill-in) and the `/` live filter, as one text. */
function filterOf(state: ConsoleState, frame: ViewFrame): string {
  return [frame.filter ?? '', state.ui.filters[frameKey(frame)] ?? ''].join(' ').trim();
}

/** Orchestration runs as the frame lists them (filtered, newest first). */
export function selectOrchestrationRuns(state: ConsoleState, frame: ViewFrame): OrchestrationRunView[] {
  return orchestrations(state.orchestrationRuns, filterOf(state, frame));
}

/** Agent runs as the frame lists them (filtered, newest first). */
export function selectAgentRuns(state: ConsoleState, frame: ViewFrame): RunView[] {
  return agents(state.runs, filterOf(state, frame));
}
