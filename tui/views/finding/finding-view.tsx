import { Box, Text } from 'ink';
import { useEffect, useMemo } from 'react';
import { pad } from '../../components/text.js';
import { useActions, useClock, useConsole } from '../../hooks/console-context.js';
import { palette } from '../../theme.js';
import { currentSelection } from '../selection.js';
import type { ViewProps } from '../view-props.js';
import { findingFromEvent, findingLines, LABEL_WIDTH, type DetailLine } from './finding-rows.js';
import { useFindingKeys } from './use-finding-keys.js';

/**
 * One finding (`frame.key` is its id): its fields, evidence and the raw event it was reported in (fetched on
 * mount), scrolled with j/k when longer than the view. The fields come from the live feed, or from the raw event
 * once the finding has left the feed's ring.
 */
export function FindingView({ frame, width, height }: ViewProps) {
  const id = Number(frame.key);
  const stored = useConsole((s) => findInFeed(s.findings.toArray(), id));
  const event = useConsole((s) => s.details.findingEvents.get(id));
  const actions = useActions();
  const clock = useClock();
  useEffect(() => {
    if (Number.isInteger(id)) actions.openFinding(id);
  }, [actions, id]);
  const f = stored ?? (event !== undefined ? findingFromEvent(id, event) : { id });
  const lines = useMemo(() => findingLines(f, event, width, clock()), [f, event, width, clock]);
  const scrollRows = Math.max(1, lines.length - height + 1);
  const top = useConsole((s) => currentSelection(s, frame, scrollRows));
  useFindingKeys({ id, host: f.host, runId: f.run_id }, scrollRows, Math.max(1, height - 1));
  const more = lines.length - top - height;
  return (
    <Box flexDirection="column" width={width} height={height}>
      {lines.slice(top, top + height).map((line, i) => (
        <Line key={top + i} line={line} last={i === height - 1 && more > 0} more={more} />
      ))}
    </Box>
  );
}

/** The feed's finding with this id (searched newest first: drill-ins are usually recent). */
function findInFeed(feed: readonly { id: number }[], id: number) {
  for (let i = feed.length - 1; i >= 0; i--) if (feed[i]!.id === id) return feed[i] as Parameters<typeof findingLines>[0];
  return undefined;
}

function Line(props: { line: DetailLine; last: boolean; more: number }) {
  const { line } = props;
  if (props.last) return <Text color={palette.muted}>{`  … ${props.more + 1} more lines (j/k, G)`}</Text>;
  if (line.label === undefined) {
    return (
      <Text wrap="truncate-end" bold={line.heading === true} color={line.heading === true ? palette.accent : line.color}>
        {line.heading === true ? line.text : `  ${line.text}`}
      </Text>
    );
  }
  return (
    <Text wrap="truncate-end">
      <Text color={line.bold === true ? line.color : palette.muted} bold={line.bold === true}>
        {pad(line.label, LABEL_WIDTH - 1)}{' '}
      </Text>
      <Text color={line.bold === true ? undefined : line.color} bold={line.bold === true}>
        {line.text}
      </Text>
    </Text>
  );
}
