import type { OperatorClient } from '../../src/transport/operator-client.js';
import type { ConsoleStore } from '../store/console-store.js';
import { LOAD_LIMITS } from './load-snapshot.js';
import { periodic, type Timers } from './timers.js';

/** How often what the stream does not carry is re-read. */
export const REFRESH_MS = {
  /** Host list at least this often; more hosts stretch it (see hostsInterval). */
  hosts: 5_000,
  /** Per-host open counts, groups and clusters. */
  findings: 10_000,
  /** After a triage, the counts are re-read this soon (debounced). */
  afterTriage: 1_000,
  /** Orchestrations and the agent library. */
  library: 60_000,
} as const;

/** The host refresh interval for a fleet of `hosts`: 5 s per 2,000 hosts, at least 5 s (10,000 hosts: 25 s). */
export function hostsInterval(hosts: number): number {
  return Math.max(REFRESH_MS.hosts, (hosts / 2000) * REFRESH_MS.hosts);
}

/** The periodic refreshes of a loaded console. */
export interface Refreshers {
  /** Starts every schedule (again after a reload: a no-op while running). */
  start(): void;
  /** A triage happened: re-read counts and groups ~1 s from now. */
  triaged(): void;
  stop(): void;
}

/**
 * Host liveness (heartbeat ages are not streamed), exact counts, groups and clusters, and the library, each on its
 * own never-overlapping schedule.
 */
export function createRefreshers(deps: {
  client: OperatorClient;
  store: ConsoleStore;
  timers: Timers;
  now: () => number;
  onError(what: string, err: unknown): void;
}): Refreshers {
  const { client, store, timers, now } = deps;
  const hosts = periodic(
    timers,
    async () => store.dispatch({ type: 'hosts', at: now(), hosts: await client.hosts() }),
    () => hostsInterval(store.getState().hosts.size),
    (err) => deps.onError('hosts', err),
  );
  const findings = periodic(
    timers,
    async () => {
      const [summary, groups, clusters] = await Promise.all([
        client.findingsSummaryByHost(),
        client.findingGroups({ limit: LOAD_LIMITS.groups }),
        client.findingClusters({ limit: LOAD_LIMITS.clusters }),
      ]);
      store.dispatchMany([{ type: 'summary', summary }, { type: 'groups', groups }, { type: 'clusters', clusters }]);
    },
    () => REFRESH_MS.findings,
    (err) => deps.onError('findings summary', err),
  );
  const library = periodic(
    timers,
    async () => {
      const [orchestrations, agents] = await Promise.all([client.listOrchestrations(), client.listAgents()]);
      store.dispatch({ type: 'library', orchestrations, agents });
    },
    () => REFRESH_MS.library,
    (err) => deps.onError('library', err),
  );
  const all = [hosts, findings, library];
  return {
    start: () => all.forEach((p) => p.start()),
    triaged: () => findings.kick(REFRESH_MS.afterTriage),
    stop: () => all.forEach((p) => p.stop()),
  };
}
