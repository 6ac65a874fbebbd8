import { Box, Text } from 'ink';
import { useEffect, useMemo } from 'react';
import { sanitize } from '../../components/text.js';
import { useConsole, useDispatch, useGetState } from '../../hooks/console-context.js';
import { frameKey, type ViewFrame } from '../../store/ui-state.js';
import { useNow } from '../../hooks/use-now.js';
import { palette } from '../../theme.js';
import { currentSelection } from '../selection.js';
import type { ViewProps } from '../view-props.js';
import { AgentRunBody, agentRunFields } from './agent-run.js';
import { OrchestrationRunBody } from './orchestration-run.js';
import { initialCursor, runCursors } from './run-rows.js';
import { Transcript } from './transcript.js';
import { useFollow } from './use-follow.js';
import { parseRunKey, useRunKeys } from './use-run-keys.js';

/**
 * One run (`frame.key` is `orch:<id>` or `agent:<run id>`). An orchestration run shows its header and steps — a
 * fan-out as one dot per host and a filling bar, failed hosts with their errors, a waiting step's rendered prompt,
 * inputs and targets — and the transcript of the selected host's run once `t` follows it. An agent run shows its
 * fields and follows its transcript from the start.
 */
export function RunDetailView({ frame, width, height }: ViewProps) {
  const ref = useMemo(() => parseRunKey(frame.key), [frame.key]);
  const orch = useConsole((s) => (ref.kind === 'orch' ? s.orchestrationRuns.get(ref.id) : undefined));
  const agent = useConsole((s) => (ref.kind === 'agent' ? s.runs.get(ref.id) : undefined));
  const loaded = useConsole((s) => s.loaded);
  const cursors = useMemo(() => (orch === undefined ? [] : runCursors(orch)), [orch]);
  const selected = useConsole((s) => currentSelection(s, frame, cursors.length));
  const now = useNow(1000);
  useInitialCursor(frame, orch === undefined ? 0 : initialCursor(orch, cursors));
  const follow = useFollow(ref.kind === 'agent' ? ref.id : undefined);
  const transcriptHeight = follow.following === null ? 0 : ref.kind === 'agent' ? agentTranscriptHeight(agent, width, height, now) : Math.max(5, Math.floor(height * 0.4));
  const bodyHeight = Math.max(1, height - transcriptHeight);
  useRunKeys(frame, ref, ref.kind === 'orch' ? cursors.length : undefined, Math.max(1, bodyHeight - 4), follow);
  if (ref.kind === 'orch' && orch === undefined) {
    return <Text color={palette.warn}>! {loaded ? `orchestration run ${sanitize(ref.id)} is not among the runs loaded from the CP` : 'connecting to the CP…'}</Text>;
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      {orch !== undefined ? (
        <OrchestrationRunBody run={orch} cursor={cursors[selected]} width={width} height={bodyHeight} now={now} />
      ) : (
        <AgentRunBody runId={ref.id} run={agent} width={width} now={now} />
      )}
      {follow.following !== null ? <Transcript runId={follow.following} width={width} height={transcriptHeight} /> : null}
    </Box>
  );
}

/** An agent run's transcript takes what its fields leave (a title, the fields two a line when wide, a blank). */
function agentTranscriptHeight(run: Parameters<typeof agentRunFields>[0] | undefined, width: number, height: number, now: number): number {
  const fields = run === undefined ? 1 : agentRunFields(run, now).length;
  const fieldLines = width >= 90 ? Math.ceil(fields / 2) + 1 : fields;
  return Math.max(3, height - 1 - fieldLines - 1);
}

/** Puts the cursor on `index` when the frame has no selection yet (first visit), so the waiting step is in view. */
function useInitialCursor(frame: ViewFrame, index: number): void {
  const getState = useGetState();
  const dispatch = useDispatch();
  useEffect(() => {
    if (index > 0 && getState().ui.selection[frameKey(frame)] === undefined) dispatch({ type: 'ui/select', index });
    // Keyed on whether there is a place to go, not on the index: a run that moves on must not move the cursor.
  }, [frame, index > 0]);
}
