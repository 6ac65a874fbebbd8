import { Box, Text } from 'ink';
import { useMemo, useRef } from 'react';
import type { RolloutView } from '../../../src/protocol/rollout.js';
import { windowStart } from '../../components/table-layout.js';
import { useConsole } from '../../hooks/console-context.js';
import { useNow } from '../../hooks/use-now.js';
import type { ConsoleState } from '../../store/state.js';
import { palette } from '../../theme.js';
import { Line } from '../run/orchestration-run.js';
import { currentSelection } from '../selection.js';
import type { ViewProps } from '../view-props.js';
import { rolloutLines } from './rollout-lines.js';
import { useViewKeys } from '../../keys/view-keys.js';

/** Rollouts newest first. */
export function selectRollouts(state: ConsoleState): RolloutView[] {
  return [...state.rollouts.values()].sort((a, b) => b.created_at - a.created_at || b.rollout_id.localeCompare(a.rollout_id));
}

/**
 * Rollouts (`okesu upgrade`), newest first: each with its state, one dot per host coloured by its state (as a
 * fan-out step shows its hosts), a progress bar and the count of each state; j/k select, windowed to keep the
 * selected one in view. Updated live from the stream's `rollout` messages.
 */
export function RolloutsView({ frame, width, height }: ViewProps) {
  const rollouts = useConsole((s) => s.rollouts);
  const list = useMemo(() => selectRollouts({ rollouts } as ConsoleState), [rollouts]);
  const loaded = useConsole((s) => s.loaded);
  const selected = useConsole((s) => currentSelection(s, frame, list.length));
  const now = useNow(1000);
  useViewKeys({ rows: list.length, page: 1 });
  const blocks = useMemo(() => list.map((r, i) => rolloutLines(r, i === selected, width - 2, now)), [list, selected, width, now]);
  const body = blocks.flat();
  const room = Math.max(1, height - 1);
  const at = blocks.slice(0, selected).reduce((n, b) => n + b.length, 0);
  const last = at + (blocks[selected]?.length ?? 1) - 1;
  const startRef = useRef(0);
  // Keep the whole selected block in view: first its last line, then its first.
  const start = windowStart(at, room, body.length, windowStart(last, room, body.length, startRef.current));
  startRef.current = start;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>Rollouts</Text>
        <Text color={palette.muted}>{`   ${list.length} · ● healthy … upgrading ◌ pending ↺ rolled back ✗ failed`}</Text>
      </Text>
      {body.length === 0 ? (
        <Text color={palette.muted}>{loaded ? '  no rollouts yet (okesu upgrade --version V --all starts one)' : '  connecting to the CP…'}</Text>
      ) : (
        body.slice(start, start + room).map((l, i) => <Line key={start + i} line={l} />)
      )}
    </Box>
  );
}
