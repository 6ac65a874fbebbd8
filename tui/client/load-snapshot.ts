import type { RolloutView } from '../../src/protocol/rollout.js';
import type { OperatorClient } from '../../src/transport/operator-client.js';
import type { DataEvent } from '../store/events.js';
import { LIMITS } from '../store/state.js';

/** The console's full picture of the CP. */
export type SnapshotEvent = Extract<DataEvent, { type: 'snapshot' }>;

/** How many fingerprint groups, clusters and runs a load asks for. */
export const LOAD_LIMITS = { groups: 200, clusters: 100, runs: 200, orchestrationRuns: 100, rollouts: 10 } as const;

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
 * Loads everything the console shows, in parallel, into one `snapshot` event. Its `cursor` comes with the findings
 * page, so a stream opened `after` it continues exactly where the feed ends. Rejects if any load fails.
 */
export async function loadSnapshot(client: OperatorClient, now: () => number): Promise<SnapshotEvent> {
  const [me, hosts, summary, page, groups, clusters, runs, orchestrationRuns, orchestrations, agents, rollouts] = await Promise.all([
    labelled('whoami', client.whoami()),
    labelled('hosts', client.hosts()),
    labelled('the findings summary', client.findingsSummaryByHost()),
    labelled('findings', client.findings({ limit: LIMITS.feed })),
    labelled('finding groups', client.findingGroups({ limit: LOAD_LIMITS.groups })),
    labelled('finding clusters', client.findingClusters({ limit: LOAD_LIMITS.clusters })),
    labelled('runs', client.listRuns({ limit: LOAD_LIMITS.runs })),
    labelled('orchestration runs', client.listOrchestrationRuns({ limit: LOAD_LIMITS.orchestrationRuns })),
    labelled('orchestrations', client.listOrchestrations()),
    labelled('the agent library', client.listAgents()),
    loadRollouts(client),
  ]);
  return {
    type: 'snapshot',
    at: now(),
    me: { name: me.name, role: me.role },
    hosts,
    summary,
    findings: page.findings,
    cursor: page.cursor,
    groups,
    clusters,
    runs,
    orchestrationRuns,
    orchestrations,
    agents,
    rollouts,
  };
}
