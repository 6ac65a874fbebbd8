import { Box, Text } from 'ink';
import { useMemo } from 'react';
import { Table } from '../../components/table.js';
import { useConsole } from '../../hooks/console-context.js';
import { useNow } from '../../hooks/use-now.js';
import { palette } from '../../theme.js';
import { RUNS_MODES, type RunsMode } from '../../store/ui-state.js';
import { currentSelection } from '../selection.js';
import type { ViewProps } from '../view-props.js';
import { AGENT_RUN_COLUMNS, agentRunRow, orchestrationRunColumns, orchestrationRunRow } from './runs-rows.js';
import { selectAgentRuns, selectOrchestrationRuns } from './runs-select.js';
import { useRunsKeys } from './use-runs-keys.js';

const MODE_TITLE: Readonly<Record<RunsMode, string>> = { orchestrations: 'orchestration runs', agents: 'agent runs' };

/**
 * Runs: orchestration runs (state, current step, steps done) or ad-hoc agent runs (host, agent, status, findings,
 * error), newest first, switched with `tab`; enter opens a run, `c` cancels it.
 */
export function RunsView({ frame, width, height }: ViewProps) {
  const mode = useConsole((s) => s.ui.runsMode);
  const orchestrations = useConsole((s) => selectOrchestrationRuns(s, frame));
  const agents = useConsole((s) => selectAgentRuns(s, frame));
  const loaded = useConsole((s) => s.loaded);
  const count = mode === 'orchestrations' ? orchestrations.length : agents.length;
  const selected = useConsole((s) => currentSelection(s, frame, count));
  const now = useNow(1000);
  const tableHeight = Math.max(1, height - 1);
  useRunsKeys(frame, count, Math.max(1, tableHeight - 1));
  const wide = width >= 100;
  const rows = useMemo(
    () => (mode === 'orchestrations' ? orchestrations.map((r) => orchestrationRunRow(r, now, wide)) : agents.map((r) => agentRunRow(r, now))),
    [mode, orchestrations, agents, now, wide],
  );
  const empty = !loaded ? 'connecting to the CP…' : `no ${MODE_TITLE[mode]} yet (4 or :dispatch starts one)`;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>Runs </Text>
        {RUNS_MODES.map((m) => (
          <Text key={m} color={m === mode ? palette.accent : palette.muted} bold={m === mode}>
            {m === mode ? ` [${MODE_TITLE[m]}]` : `  ${MODE_TITLE[m]} `}
          </Text>
        ))}
        <Text color={palette.muted}>{`   ${count} · tab: switch`}</Text>
      </Text>
      <Table
        columns={mode === 'orchestrations' ? orchestrationRunColumns(wide) : AGENT_RUN_COLUMNS}
        rows={rows}
        selected={selected}
        height={tableHeight}
        width={width}
        emptyText={empty}
      />
    </Box>
  );
}
