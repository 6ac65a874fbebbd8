import { Box, Text } from 'ink';
import { useMemo } from 'react';
import { Table } from '../../components/table.js';
import { pad, sanitize } from '../../components/text.js';
import { useConsole } from '../../hooks/console-context.js';
import { useNow } from '../../hooks/use-now.js';
import { palette } from '../../theme.js';
import type { ViewProps } from '../view-props.js';
import { FINDING_COLUMNS, findingRows, hostFacts, hostFindings, hostRuns, RUN_COLUMNS, runRows } from './host-rows.js';
import { useHostKeys } from './use-host-keys.js';

/**
 * One host (`frame.key` is its hostname): its facts and labels, its recent runs, and its findings from the live
 * feed. `f` opens all its findings, `d` dispatches to it.
 */
export function HostView({ frame, width, height }: ViewProps) {
  const hostname = frame.key ?? '';
  const host = useConsole((s) => s.hosts.get(hostname));
  const runs = useConsole((s) => s.runs);
  const feed = useConsole((s) => s.findings);
  const open = useConsole((s) => s.summary.open_by_host?.[hostname]);
  const now = useNow(1000);
  useHostKeys(hostname);
  const facts = host === undefined ? [] : hostFacts(host, now);
  // What is left under the title, facts, blank and section titles goes to the two tables, runs first, at least 2 lines each.
  const factLines = Math.ceil(facts.length / (width >= 100 ? 2 : 1));
  const left = Math.max(4, height - 4 - factLines);
  const runsHeight = Math.max(2, Math.floor(left / 2));
  const findingsHeight = Math.max(2, left - runsHeight);
  const runList = useMemo(() => hostRuns(runs, hostname, runsHeight - 1), [runs, hostname, runsHeight]);
  const findingList = useMemo(() => hostFindings(feed, hostname, findingsHeight - 1), [feed, hostname, findingsHeight]);
  if (host === undefined) {
    return <Text color={palette.warn}>! host {sanitize(hostname)} is not known to the CP (removed, or not loaded yet)</Text>;
  }
  const half = width >= 100 ? Math.floor(width / 2) : width;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>Host {sanitize(host.hostname)}</Text>
        <Text color={palette.muted}>{open !== undefined ? `  ${open} open findings` : ''}</Text>
      </Text>
      <Box flexDirection="row" flexWrap="wrap" width={width}>
        {facts.map((f) => (
          <Box key={f.label} width={half}>
            <Text wrap="truncate-end">
              <Text color={palette.muted}>{pad(f.label, 12)}</Text>
              <Text color={f.color}>{sanitize(f.value)}</Text>
            </Text>
          </Box>
        ))}
      </Box>
      <Text> </Text>
      <Text bold>Recent runs</Text>
      <Table columns={RUN_COLUMNS} rows={runRows(runList, now)} selected={-1} height={runsHeight} width={width} emptyText="no runs on this host yet" />
      <Text bold>Findings</Text>
      <Table columns={FINDING_COLUMNS} rows={findingRows(findingList, now)} selected={-1} height={findingsHeight} width={width} emptyText="no findings from this host in the live feed" />
    </Box>
  );
}
