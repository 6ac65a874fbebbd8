import { Box, Text } from 'ink';
import type { RunView } from '../../../src/protocol/api.js';
import { formatAge, formatTime, pad, sanitize } from '../../components/text.js';
import { palette, statusStyle } from '../../theme.js';
import { runStatusText } from '../../../src/protocol/host-transport.js';

/** The fields of an agent run, two per line when there is room. */
export function agentRunFields(run: RunView, now: number): { label: string; value: string; color?: string | undefined }[] {
  const st = statusStyle(run.status);
  const end = run.ended_at ?? now;
  return [
    { label: 'status', value: `${st.glyph} ${runStatusText(run, st.word)}`, color: st.color },
    { label: 'host', value: run.host },
    { label: 'agent', value: run.agent },
    { label: 'by', value: run.created_by },
    { label: 'created', value: `${formatTime(run.created_at, now)} (${formatAge(now - run.created_at)} ago)` },
    { label: 'duration', value: run.started_at === null ? '-' : `${formatAge(end - run.started_at)}${run.ended_at === null ? ' so far' : ''}` },
    { label: 'timeout', value: formatAge(run.timeout_ms) },
    { label: 'findings', value: `${run.findings} (${run.events} events)` },
    ...(run.error !== null ? [{ label: 'error', value: run.error, color: palette.error }] : []),
    ...(run.prompt !== '' ? [{ label: 'prompt', value: run.prompt }] : []),
  ];
}

/** An ad-hoc agent run: its id and fields (or a note when it is not among the loaded runs). */
export function AgentRunBody(props: { runId: string; run: RunView | undefined; width: number; now: number }) {
  const { run, width } = props;
  if (run === undefined) {
    return (
      <Box flexDirection="column" width={width}>
        <Text bold wrap="truncate-end">Run {sanitize(props.runId)}</Text>
        <Text color={palette.muted} wrap="truncate-end">not among the runs loaded from the CP; its transcript follows below</Text>
      </Box>
    );
  }
  const half = width >= 90 ? Math.floor(width / 2) : width;
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate-end">Run {sanitize(run.run_id)}</Text>
      <Box flexDirection="row" flexWrap="wrap" width={width}>
        {agentRunFields(run, props.now).map((f) => (
          <Box key={f.label} width={f.label === 'error' || f.label === 'prompt' ? width : half}>
            <Text wrap="truncate-end">
              <Text color={palette.muted}>{pad(f.label, 10)}</Text>
              <Text color={f.color}>{sanitize(f.value)}</Text>
            </Text>
          </Box>
        ))}
      </Box>
    </Box>
  );
}
