import type { RefObject } from 'react';
import type { TriageStatus } from '../../../src/protocol/finding.js';
import { FINDINGS_MODES, type FindingsMode, type ViewFrame } from '../../store/ui-state.js';
import { useActions, useDispatch } from '../../hooks/console-context.js';
import { askConfirm } from '../../keys/confirm.js';
import { useViewKeys } from '../../keys/view-keys.js';
import type { ConsoleState } from '../../store/state.js';
import { currentSelection } from '../selection.js';
import { anchoredFinding, type FeedAnchor } from './feed-anchor.js';
import { selectClusters, selectFeed, selectGroups } from './findings-select.js';

/** The triage status each triage binding sets (the same keys on the feed, the groups and one finding). */
export const TRIAGE_BY_BINDING: Readonly<Record<string, TriageStatus>> = {
  'findings.ack': 'acknowledged',
  'findings.resolve': 'resolved',
  'findings.false-positive': 'false_positive',
  'findings.reopen': 'open',
  'groups.ack': 'acknowledged',
  'groups.resolve': 'resolved',
  'groups.false-positive': 'false_positive',
  'finding.ack': 'acknowledged',
  'finding.resolve': 'resolved',
  'finding.false-positive': 'false_positive',
  'finding.reopen': 'open',
};

/** What a confirmed group triage carries back (see askConfirm). */
interface GroupTriage {
  findingId: number;
  status: TriageStatus;
}

/** The number of rows of the sub-view on screen (undefined for the breakdown, which has no selection). */
export function findingsRowCount(state: ConsoleState, frame: ViewFrame, mode: FindingsMode): number | undefined {
  switch (mode) {
    case 'feed': return selectFeed(state, frame).length;
    case 'groups': return selectGroups(state, frame).length;
    case 'clusters': return selectClusters(state, frame).length;
    case 'breakdown': return undefined;
  }
}

/**
 * The findings view's keys: `tab` cycles the sub-views; on the feed a/x/p/o triage the selected finding and enter
 * opens it; on the groups a/x/p triage the whole group after a confirm and enter shows its findings (the feed
 * filtered to its fingerprint); on the clusters enter shows the findings sharing the indicator.
 */
export function useFindingsKeys(frame: ViewFrame, rows: number | undefined, page: number, anchor: RefObject<FeedAnchor | null>): void {
  const dispatch = useDispatch();
  const actions = useActions();
  const drillIn = (filter: string, mode: FindingsMode): void => {
    // The pushed frame's key names the sub-view to restore when it is popped (see FindingsView), and the filter, so
    // each drill-in keeps its own selection.
    dispatch({ type: 'ui/push', frame: { view: 'findings', key: `${mode}:${filter}`, filter } });
    dispatch({ type: 'ui/findings-mode', mode: 'feed' });
  };
  useViewKeys({
    rows,
    page,
    onKey(binding, _name, state) {
      const mode = state.ui.findingsMode;
      const id = binding?.id;
      if (id === 'findings.mode') {
        const next = FINDINGS_MODES[(FINDINGS_MODES.indexOf(mode) + 1) % FINDINGS_MODES.length]!;
        dispatch({ type: 'ui/findings-mode', mode: next });
        // The sub-views share the frame's selection: start each at its top.
        return dispatch({ type: 'ui/select', index: 0 });
      }
      if (mode === 'feed') {
        const list = selectFeed(state, frame);
        const f = anchoredFinding(list, currentSelection(state, frame, list.length), anchor.current);
        if (f === undefined) return;
        if (id === 'global.open') return dispatch({ type: 'ui/push', frame: { view: 'finding', key: String(f.id) } });
        const status = id === undefined ? undefined : TRIAGE_BY_BINDING[id];
        if (status !== undefined) void actions.triage(f.id, status, 'finding');
        return;
      }
      if (mode === 'groups') {
        const list = selectGroups(state, frame);
        const g = list[currentSelection(state, frame, list.length)];
        if (g === undefined) return;
        if (id === 'global.open') return drillIn(`fp:${g.fingerprint}`, 'groups');
        const status = id === undefined ? undefined : TRIAGE_BY_BINDING[id];
        if (id !== undefined && status !== undefined) {
          const payload: GroupTriage = { findingId: g.last_finding_id, status };
          dispatch(askConfirm(id, { count: g.count, title: g.title }, payload));
        }
        return;
      }
      if (mode === 'clusters' && id === 'global.open') {
        const list = selectClusters(state, frame);
        const c = list[currentSelection(state, frame, list.length)];
        if (c !== undefined) drillIn(`ind:${c.indicator}`, 'clusters');
      }
    },
    onConfirm(bindingId, payload) {
      const p = payload as GroupTriage;
      if (TRIAGE_BY_BINDING[bindingId] !== undefined) void actions.triage(p.findingId, p.status, 'group');
    },
  });
}
