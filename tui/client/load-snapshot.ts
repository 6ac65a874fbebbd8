import type { RolloutView } from '../../src/protocol/rollout.js';
import type { OperatorClient } from '../../src/transport/operator-client.js';
import type { DataEvent } from '../store/events.js';
import { LIMITS } from '../store/state.js';

/** What the first frame needs from the CP. */
export type SnapshotEvent = Extract<DataEvent, { type: 'snapshot' }>;
/** The rest of the console's picture of the CP, loaded after the first frame. */
export type BackfillEvent = Extract<DataEvent, { type: 'backfill' }>;

/** How many fingerprint groups, clusters and runs a load asks for. */
export const LOAD_LIMITS = { groups: 200, clusters: 100, runs: 200, orchestrationRuns: 100, rollouts: 10 } as const;

/**
 * Findings in the first, small load: more than any screen shows. The rest of the feed (LIMITS.feed) comes with the
 * backfill. With 100,000 stored findings the full page is ~2.5 MB the CP must read and send before the first frame.
 */
export const FIRST_FINDINGS = 200;

/** Labels `promise`'s failure with what was being loaded, so the flash says which load failed. */
async function labelled<T>(what: string, promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw Object.assign(err instanceof Error ? err : new Error(message), { message: `loading ${what}: ${message}` });
  }
}

/**
 * The newest rollouts, each with its hosts (the list has none). A CP without rollouts (older than issue 15) or a
 * failure here leaves the rollouts view empty rather than failing the whole load.
 */
async function loadRollouts(client: OperatorClient): Promise<RolloutView[]> {
  try {
    const list = await client.listRollouts({ limit: LOAD_LIMITS.rollouts });
    return await Promise.all(list.map((r) => client.getRollout(r.rollout_id)));
  } catch {
    return [];
  }
}

/**
 * Loads what the first frame shows, in parallel, into one `snapshot` event: who we are, the hosts, the counts and
 * the newest FIRST_FINDINGS findings. Its `cursor` comes with the findings page, so a stream opened `after` it
 * continues exactly where the feed ends. Rejects if any load fails.
 */
export async function loadSnapshot(client: OperatorClient, now: () => number): Promise<SnapshotEvent> {
  const [me, hosts, summary, page] = await Promise.all([
    labelled('whoami', client.whoami()),
    labelled('hosts', client.hosts()),
    labelled('the findings summary', client.findingsSummaryByHost()),
    labelled('findings', client.findings({ limit: FIRST_FINDINGS })),
  ]);
  return {
    type: 'snapshot',
    at: now(),
    me: { name: me.name, role: me.role },
    hosts,
    summary,
    findings: page.findings,
    cursor: page.cursor,
  };
}

/**
 * Loads the rest after the first frame: the feed's older findings (only when the snapshot's page was full), groups,
 * clusters, runs, the library and rollouts. Rejects if any load fails.
 */
export async function loadBackfill(client: OperatorClient, snapshot: SnapshotEvent): Promise<BackfillEvent> {
  const olderThan = snapshot.findings.length >= FIRST_FINDINGS ? snapshot.findings[0]?.id : undefined;
  const [page, groups, clusters, runs, orchestrationRuns, orchestrations, agents, rollouts] = await Promise.all([
    olderThan === undefined ? { findings: [] } : labelled('findings', client.findings({ limit: LIMITS.feed })),
    labelled('finding groups', client.findingGroups({ limit: LOAD_LIMITS.groups })),
    labelled('finding clusters', client.findingClusters({ limit: LOAD_LIMITS.clusters })),
    labelled('runs', client.listRuns({ limit: LOAD_LIMITS.runs })),
    labelled('orchestration runs', client.listOrchestrationRuns({ limit: LOAD_LIMITS.orchestrationRuns })),
    labelled('orchestrations', client.listOrchestrations()),
    labelled('the agent library', client.listAgents()),
    loadRollouts(client),
  ]);
  return { type: 'backfill', findings: page.findings, olderThan, groups, clusters, runs, orchestrationRuns, orchestrations, agents, rollouts };
}
