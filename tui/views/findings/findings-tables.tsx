import { useMemo, type RefObject } from 'react';
import { Table } from '../../components/table.js';
import { useClock, useConsole } from '../../hooks/console-context.js';
import { useNow } from '../../hooks/use-now.js';
import type { ViewFrame } from '../../store/ui-state.js';
import { currentSelection } from '../selection.js';
import { useFeedAnchor, type FeedAnchor } from './feed-anchor.js';
import { selectClusters, selectFeed, selectGroups } from './findings-select.js';
import { CLUSTER_COLUMNS, clusterRow, FEED_COLUMNS, feedRows, GROUP_COLUMNS, groupRow } from './findings-rows.js';

/** Props of the findings sub-view tables. */
interface SubViewProps {
  frame: ViewFrame;
  width: number;
  height: number;
}

/** What an empty list says: still loading, nothing at all, or nothing matching the filter. */
function useEmptyText(nothing: string, filtered: boolean): string {
  const loaded = useConsole((s) => s.loaded);
  if (!loaded) return 'connecting to the CP…';
  return filtered ? 'nothing matches the filter (esc clears it)' : nothing;
}

/**
 * The live feed, newest first, windowed (only the rows on screen are drawn). At the top it follows the newest
 * finding; below it, the selection stays on its finding as new ones arrive (see feed-anchor.ts).
 */
export function FeedTable({ frame, width, height, anchor }: SubViewProps & { anchor: RefObject<FeedAnchor | null> }) {
  const list = useConsole((s) => selectFeed(s, frame));
  const total = useConsole((s) => s.findings.size);
  const selected = useConsole((s) => currentSelection(s, frame, list.length));
  useFeedAnchor(list, selected, anchor);
  const clock = useClock();
  // Times are absolute, so rows only change with the list; `now` only decides whether a date is shown.
  const rows = useMemo(() => feedRows(list, clock()), [list, clock]);
  const empty = useEmptyText('no findings yet: they appear here as runs report them', total > 0);
  return <Table columns={FEED_COLUMNS} rows={rows} selected={selected} height={height} width={width} emptyText={empty} />;
}

/** Fingerprint groups, most recently seen first, with ×N, hosts, open count and last-seen age. */
export function GroupsTable({ frame, width, height }: SubViewProps) {
  const list = useConsole((s) => selectGroups(s, frame));
  const total = useConsole((s) => s.groups.length);
  const selected = useConsole((s) => currentSelection(s, frame, list.length));
  const now = useNow(1000);
  const rows = useMemo(() => list.map((g) => groupRow(g, now)), [list, now]);
  const empty = useEmptyText('no finding groups yet', total > 0);
  return <Table columns={GROUP_COLUMNS} rows={rows} selected={selected} height={height} width={width} emptyText={empty} />;
}

/** Indicators shared by several findings, most findings first. */
export function ClustersTable({ frame, width, height }: SubViewProps) {
  const list = useConsole((s) => selectClusters(s, frame));
  const total = useConsole((s) => s.clusters.length);
  const selected = useConsole((s) => currentSelection(s, frame, list.length));
  const now = useNow(1000);
  const rows = useMemo(() => list.map((c) => clusterRow(c, now)), [list, now]);
  const empty = useEmptyText('no indicator is shared by several findings yet', total > 0);
  return <Table columns={CLUSTER_COLUMNS} rows={rows} selected={selected} height={height} width={width} emptyText={empty} />;
}
