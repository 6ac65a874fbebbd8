import { Box, Text } from 'ink';
import { useMemo } from 'react';
import { Table } from '../../components/table.js';
import { useConsole } from '../../hooks/console-context.js';
import { useNow } from '../../hooks/use-now.js';
import { palette } from '../../theme.js';
import { currentSelection } from '../selection.js';
import type { ViewProps } from '../view-props.js';
import { fleetColumns, fleetRows, fleetSort, selectFleetHosts } from './fleet-rows.js';
import { useFleetKeys } from './use-fleet-keys.js';

/**
 * The fleet: one row per host (state, hostname, transport, version, heartbeat age ticking live, runs in flight,
 * open findings), filtered by `/` and sorted by `s` / `S`; windowed, so 10,000 hosts draw as fast as 20.
 */
export function FleetView({ frame, width, height }: ViewProps) {
  const list = useConsole((s) => selectFleetHosts(s, frame));
  const total = useConsole((s) => s.hosts.size);
  const loaded = useConsole((s) => s.loaded);
  const openByHost = useConsole((s) => s.summary.open_by_host);
  const sort = fleetSort(useConsole((s) => s.ui.sort['fleet']));
  const selected = useConsole((s) => currentSelection(s, frame, list.length));
  const now = useNow(1000);
  const withLabels = width >= 110;
  // Only the window the table draws is built: a key press must not map 10,000 hosts into rows.
  const rows = useMemo(
    () => ({ length: list.length, slice: (start: number, end: number) => fleetRows(list.slice(start, end), openByHost, now, withLabels) }),
    [list, openByHost, now, withLabels],
  );
  const tableHeight = Math.max(1, height - 1);
  useFleetKeys(frame, list.length, Math.max(1, tableHeight - 1));
  const empty = !loaded
    ? 'connecting to the CP…'
    : total === 0
      ? 'no hosts yet: make a join token (okesu token create --join) and start a daimon'
      : 'no host matches the filter (esc clears it)';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>Fleet</Text>
        <Text color={palette.muted}>
          {'  '}
          {list.length === total ? `${total} hosts` : `${list.length} of ${total} hosts`}
          {list.length > 0 ? ` · ${selected + 1}/${list.length}` : ''}
          {' · sort '}
          {sort.column}
          {sort.desc ? ' ↓' : ' ↑'}
        </Text>
      </Text>
      <Table
        columns={fleetColumns(sort, width)}
        rows={rows}
        selected={selected}
        height={tableHeight}
        width={width}
        emptyText={empty}
      />
    </Box>
  );
}
