import type { OperatorClient } from '../../src/transport/operator-client.js';
import type { DataEvent } from '../store/events.js';
import { LIMITS } from '../store/state.js';

/** The console's full picture of the CP. */
export type SnapshotEvent = Extract<DataEvent, { type: 'snapshot' }>;

/** How many fingerprint groups, clusters and runs a load asks for. */
export const LOAD_LIMITS = { groups: 200, clusters: 100, runs: 200, orchestrationRuns: 100 } as const;

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
 * Loads everything the console shows, in parallel, into one `snapshot` event. Its `cursor` comes with the findings
 * page, so a stream opened `after` it continues exactly where the feed ends. Rejects if any load fails.
 */
export async function loadSnapshot(client: OperatorClient, now: () => number): Promise<SnapshotEvent> {
  const [me, hosts, summary, page, groups, clusters, runs, orchestrationRuns, orchestrations, agents] = await Promise.all([
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
  };
}
