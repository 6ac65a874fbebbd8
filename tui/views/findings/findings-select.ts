import type { StoredFinding } from '../../../src/protocol/finding.js';
import type { FindingClusterView, FindingGroupView } from '../../../src/protocol/findings-api.js';
import type { ConsoleState } from '../../store/state.js';
import { frameKey, type ViewFrame } from '../../store/ui-state.js';
import { parseFilter } from './finding-filter.js';
import { feedFindings, filterClusters, filterGroups } from './findings-rows.js';
import { memoLast } from './memo-last.js';

const terms = memoLast((frameFilter: string | undefined, live: string | undefined) => parseFilter(frameFilter, live));
const feed = memoLast(feedFindings);
const groups = memoLast(filterGroups);
const clusters = memoLast(filterClusters);

/** The filter terms of a findings frame: its own `filter` (from a drill-in) and the `/` live filter. */
export function selectTerms(state: ConsoleState, frame: ViewFrame) {
  return terms(frame.filter, state.ui.filters[frameKey(frame)]);
}

/** The feed as the frame shows it: filtered, newest first. */
export function selectFeed(state: ConsoleState, frame: ViewFrame): StoredFinding[] {
  return feed(state.findings, selectTerms(state, frame));
}

/** The fingerprint groups as the frame shows them. */
export function selectGroups(state: ConsoleState, frame: ViewFrame): readonly FindingGroupView[] {
  return groups(state.groups, selectTerms(state, frame));
}

/** The indicator clusters as the frame shows them. */
export function selectClusters(state: ConsoleState, frame: ViewFrame): readonly FindingClusterView[] {
  return clusters(state.clusters, selectTerms(state, frame));
}
