import { Box, Text } from 'ink';
import { useMemo } from 'react';
import { pad, sanitize } from '../../components/text.js';
import { useClock, useConsole } from '../../hooks/console-context.js';
import { palette } from '../../theme.js';
import { transcriptLines } from './transcript-rows.js';

/**
 * The followed run's transcript as a live list, newest at the bottom: a window of the newest events that fit
 * (not `<Static>`: the console is one fixed frame, and the list must move when another run is followed).
 */
export function Transcript(props: { runId: string; width: number; height: number }) {
  const transcript = useConsole((s) => s.details.transcript);
  const clock = useClock();
  const mine = transcript !== null && transcript.runId === props.runId ? transcript : null;
  const room = Math.max(0, props.height - 1);
  const lines = useMemo(() => (mine === null ? [] : transcriptLines(mine.events.toArray(), room, clock())), [mine, room, clock]);
  const state = mine === null ? 'waiting for events…' : mine.ended ? `ended · ${mine.events.size} events` : `live · ${mine.events.size} events`;
  return (
    <Box flexDirection="column" width={props.width} height={props.height}>
      <Text wrap="truncate-end" bold>
        Transcript {sanitize(props.runId)}
        <Text color={mine?.ended === true ? palette.muted : palette.pending}>  {state}</Text>
        <Text color={palette.muted}>{'  t: stop'}</Text>
      </Text>
      {lines.map((l) => (
        <Text key={l.key} wrap="truncate-end">
          <Text color={palette.muted}>{l.time} </Text>
          <Text color={l.color}>{pad(l.type, 16)} </Text>
          {l.text}
        </Text>
      ))}
    </Box>
  );
}
