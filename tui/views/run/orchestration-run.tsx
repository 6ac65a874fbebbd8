import { Box, Text } from 'ink';
import { useMemo, useRef } from 'react';
import { windowStart } from '../../components/table-layout.js';
import { GLYPHS } from '../../theme.js';
import type { OrchestrationRunView } from '../../../src/protocol/orchestration-api.js';
import { headerLines, stepLines, type RunLine } from './run-lines.js';
import type { RunCursor } from './run-rows.js';

/**
 * An orchestration run: its header (pinned), then its steps with their hosts, windowed so the selected step host
 * stays in view.
 */
export function OrchestrationRunBody(props: { run: OrchestrationRunView; cursor: RunCursor | undefined; width: number; height: number; now: number }) {
  const { run, cursor, width, height, now } = props;
  const header = useMemo(() => headerLines(run, width - 2, now), [run, width, now]);
  const body = useMemo(() => run.steps.flatMap((s, i) => stepLines(s, cursor, i, width - 2, now)), [run, cursor, width, now]);
  const room = Math.max(1, height - header.length - 1);
  const at = Math.max(0, body.findIndex((l) => l.cursor === true));
  const startRef = useRef(0);
  const start = windowStart(at, room, body.length, startRef.current);
  startRef.current = start;
  return (
    <Box flexDirection="column" width={width} height={height}>
      {header.map((l, i) => (
        <Line key={`h${i}`} line={l} />
      ))}
      <Text> </Text>
      {body.slice(start, start + room).map((l, i) => (
        <Line key={start + i} line={l} />
      ))}
    </Box>
  );
}

/** A line of segments, `›` in front of the selected one (readable without colour). */
export function Line(props: { line: RunLine }) {
  const { line } = props;
  return (
    <Text wrap="truncate-end">
      {line.cursor === true ? `${GLYPHS.selected} ` : '  '}
      {line.segs.map((s, i) => (
        <Text key={i} color={s.color} bold={s.bold === true} inverse={s.inverse === true}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
}
