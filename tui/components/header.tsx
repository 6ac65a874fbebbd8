import { Box, Text } from 'ink';
import { useMemo } from 'react';
import { useConsole } from '../hooks/console-context.js';
import { palette } from '../theme.js';
import { connectionPart, countHosts, hostParts, partsWidth, severityParts, type Part } from './header-parts.js';
import { sanitize } from './text.js';

/** Parts on one line, separated by `sep`. */
export function PartsLine(props: { parts: readonly Part[]; sep: string }) {
  return (
    <Text wrap="truncate-end">
      {props.parts.map((part, i) => (
        <Text key={i}>
          {i > 0 ? props.sep : ''}
          <Text color={part.color} bold={part.bold}>
            {part.text}
          </Text>
        </Text>
      ))}
    </Text>
  );
}

/**
 * The header, two lines: the CP, connection state and who we are; then hosts online/stale/offline and open
 * findings per severity, in the roomiest form that fits the width.
 */
export function Header(props: { width: number }) {
  const cp = useConsole((s) => s.cp);
  const me = useConsole((s) => s.me);
  const connection = useConsole((s) => s.connection);
  const loaded = useConsole((s) => s.loaded);
  const hosts = useConsole((s) => s.hosts);
  const open = useConsole((s) => s.summary.open_by_severity);
  const counts = useMemo(() => countHosts(hosts), [hosts]);
  const first: Part[] = [
    { text: 'okesu console', bold: true, color: palette.accent },
    { text: `cp ${sanitize(cp)}` },
    connectionPart(connection),
    ...(me !== null ? [{ text: `${sanitize(me.name) || 'token'} (${me.role})`, color: palette.muted }] : []),
  ];
  // The roomiest form that fits: spaced with labels, then tight, then without the host-state words.
  const forms: [Part[], string][] = [
    [[{ text: 'hosts', color: palette.muted }, ...hostParts(counts, false), { text: '   open findings', color: palette.muted }, ...severityParts(open, false)], '  '],
    [[...hostParts(counts, true), { text: '│ open', color: palette.muted }, ...severityParts(open, true)], ' '],
    [[...hostParts(counts, true, palette, true), { text: '│ open', color: palette.muted }, ...severityParts(open, true)], ' '],
  ];
  const [second, sep] = loaded
    ? (forms.find(([parts, s]) => partsWidth(parts, s) <= props.width) ?? forms[forms.length - 1]!)
    : [[{ text: 'loading…', color: palette.muted }], ' '];
  return (
    <Box flexDirection="column" width={props.width}>
      <PartsLine parts={first} sep="  " />
      <PartsLine parts={second} sep={sep} />
    </Box>
  );
}
