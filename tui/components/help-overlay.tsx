import { Box, Text } from 'ink';
import { useConsole } from '../hooks/console-context.js';
import { palette } from '../theme.js';
import { flowColumns, helpColumnCount, helpGroups, type HelpLine } from './help-layout.js';
import { pad } from './text.js';

/**
 * The `?` overlay: every binding, grouped by scope, generated from BINDINGS (so it cannot drift from the keys).
 * Scrolls with j/k/pageup/pagedown/g/G (the shell owns the position; `scroll` is clamped here and the maximum is
 * reported through `onMaxScroll`).
 */
export function HelpOverlay(props: { width: number; height: number; scroll: number; onMaxScroll?: (max: number) => void }) {
  const role = useConsole((s) => s.me?.role ?? null);
  const columns = flowColumns(helpGroups(role), helpColumnCount(props.width));
  const colWidth = Math.floor((props.width - 2 * (columns.length - 1)) / columns.length);
  const rows = Math.max(...columns.map((c) => c.length));
  const body = Math.max(1, props.height - 1);
  const max = Math.max(0, rows - body);
  props.onMaxScroll?.(max);
  const top = Math.max(0, Math.min(props.scroll, max));
  const more = max > 0 ? `  lines ${top + 1}–${Math.min(rows, top + body)} of ${rows} · j/k scroll` : '';
  return (
    <Box flexDirection="column" width={props.width} height={props.height}>
      <Text wrap="truncate-end">
        <Text bold color={palette.accent}>
          Keys
        </Text>
        <Text color={palette.muted}>
          {' '}
          — ? or esc closes{more}
        </Text>
      </Text>
      {Array.from({ length: Math.min(body, rows - top) }, (_, r) => (
        <Text key={r} wrap="truncate-end">
          {columns.map((col, c) => (
            <Cell key={c} line={col[top + r]} width={colWidth} gap={c > 0} />
          ))}
        </Text>
      ))}
    </Box>
  );
}

function Cell(props: { line: HelpLine | undefined; width: number; gap: boolean }) {
  const { line } = props;
  const text = pad(line?.text ?? '', props.width);
  return (
    <Text>
      {props.gap ? '  ' : ''}
      {line?.kind === 'title' ? (
        <Text bold color={palette.accent}>
          {text}
        </Text>
      ) : (
        <Text dimColor={line?.disabled === true}>{text}</Text>
      )}
    </Text>
  );
}
