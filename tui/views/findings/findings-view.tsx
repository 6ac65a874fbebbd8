import { Box, Text } from 'ink';
import { useEffect, useRef } from 'react';
import { useConsole, useDispatch, useGetState } from '../../hooks/console-context.js';
import { palette } from '../../theme.js';
import { FINDINGS_MODES, type FindingsMode, type ViewFrame } from '../../store/ui-state.js';
import type { ViewProps } from '../view-props.js';
import { Breakdown } from './breakdown.js';
import type { FeedAnchor } from './feed-anchor.js';
import { ClustersTable, FeedTable, GroupsTable } from './findings-tables.js';
import { findingsRowCount, useFindingsKeys } from './use-findings-keys.js';

/**
 * The findings view: the live feed (newest first), fingerprint groups, indicator clusters and a severity-stratified
 * breakdown, switched with `tab`. The frame's `filter` (a host's findings, a group's, a cluster's) and the `/` live
 * filter apply to every sub-view.
 */
export function FindingsView({ frame, width, height }: ViewProps) {
  const mode = useConsole((s) => s.ui.findingsMode);
  const rows = useConsole((s) => findingsRowCount(s, frame, mode));
  const bodyHeight = Math.max(1, height - 1);
  const anchor = useRef<FeedAnchor | null>(null);
  useFindingsKeys(frame, rows, Math.max(1, bodyHeight - 1), anchor);
  useRestoreModeOnPop(frame);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <ModeTabs mode={mode} rows={rows} />
      {mode === 'feed' ? <FeedTable frame={frame} width={width} height={bodyHeight} anchor={anchor} /> : null}
      {mode === 'groups' ? <GroupsTable frame={frame} width={width} height={bodyHeight} /> : null}
      {mode === 'clusters' ? <ClustersTable frame={frame} width={width} height={bodyHeight} /> : null}
      {mode === 'breakdown' ? <Breakdown width={width} height={bodyHeight} /> : null}
    </Box>
  );
}

/** `Findings  [feed] groups clusters breakdown`: the current sub-view bracketed (readable without colour). */
function ModeTabs(props: { mode: FindingsMode; rows: number | undefined }) {
  return (
    <Text wrap="truncate-end">
      <Text bold>Findings </Text>
      {FINDINGS_MODES.map((m) => (
        <Text key={m} color={m === props.mode ? palette.accent : palette.muted} bold={m === props.mode}>
          {m === props.mode ? ` [${m}]` : `  ${m} `}
        </Text>
      ))}
      <Text color={palette.muted}>
        {'   '}
        {props.rows === undefined ? '' : `${props.rows} ${props.mode === 'feed' ? 'findings' : props.mode} · `}
        tab: next
      </Text>
    </Text>
  );
}

/**
 * A drill-in findings frame (a group's or a cluster's findings, key `groups:…` / `clusters:…`) switched the shared
 * sub-view to the feed; when it is popped (no longer on the stack), put back the sub-view it was opened from.
 */
function useRestoreModeOnPop(frame: ViewFrame): void {
  const getState = useGetState();
  const dispatch = useDispatch();
  useEffect(
    () => () => {
      const from = frame.key?.split(':')[0];
      if (from === undefined || getState().ui.stack.includes(frame)) return;
      const mode = FINDINGS_MODES.find((m) => m === from);
      if (mode !== undefined) dispatch({ type: 'ui/findings-mode', mode });
    },
    // getState is a new closure each render over the same store: the first one is as good.
    [frame, dispatch],
  );
}
