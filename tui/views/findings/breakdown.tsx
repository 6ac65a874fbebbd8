import { Box, Text } from 'ink';
import { pad, sanitize } from '../../components/text.js';
import { useConsole } from '../../hooks/console-context.js';
import { palette } from '../../theme.js';
import { bar, breakdownSections, type BreakdownSection } from './breakdown-rows.js';

const LABEL = 12;
const COUNT = 7;
const NOTE = 9;

/**
 * Severity-stratified counts with bars, then per triage status, category and agent — two columns: severity and
 * status on the left, category and agent on the right. From the CP's summary (kept current by the stream).
 */
export function Breakdown(props: { width: number; height: number }) {
  const summary = useConsole((s) => s.summary);
  const column = Math.floor((props.width - 2) / 2);
  const barWidth = Math.max(4, Math.min(30, column - LABEL - COUNT - NOTE - 3));
  // Right column: two titles and a blank line between the sections, the rest shared.
  const maxLines = Math.max(1, Math.floor((props.height - 4) / 2));
  const [severity, status, category, agent] = breakdownSections(summary, barWidth, maxLines);
  return (
    <Box flexDirection="row" width={props.width} height={props.height}>
      <Box flexDirection="column" width={column} marginRight={2}>
        <Section section={severity!} barWidth={barWidth} />
        <Text> </Text>
        <Section section={status!} barWidth={barWidth} />
      </Box>
      <Box flexDirection="column" width={column}>
        <Section section={category!} barWidth={barWidth} />
        <Text> </Text>
        <Section section={agent!} barWidth={barWidth} />
      </Box>
    </Box>
  );
}

function Section(props: { section: BreakdownSection; barWidth: number }) {
  const { section, barWidth } = props;
  return (
    <>
      <Text bold wrap="truncate-end">
        {section.title}
        {section.more > 0 ? <Text color={palette.muted}> (+{section.more} more)</Text> : null}
      </Text>
      {section.lines.length === 0 ? <Text color={palette.muted}> none yet</Text> : null}
      {section.lines.map((line) => (
        <Text key={line.label} wrap="truncate-end">
          <Text color={line.color}>{pad(sanitize(line.label), LABEL)}</Text>
          {pad(String(line.count), COUNT - 1, 'right')}{' '}
          <Text color={line.color ?? palette.accent}>{bar(line.filled, barWidth)}</Text>
          <Text color={palette.muted}>{line.note !== undefined ? ` ${line.note}` : ''}</Text>
        </Text>
      ))}
    </>
  );
}
