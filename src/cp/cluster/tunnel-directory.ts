import type { Logger } from 'pino';
import type { CpBus } from '../bus/cp-bus.js';
import type { HostsRepo } from '../store/store-contract.js';

/** What the directory needs of the store (`store.hosts`). */
export type TunnelOwnersStore = Pick<HostsRepo, 'setReplicas' | 'withReplica'>;

/** Which replica holds each host's tunnel, across the cluster. */
export interface TunnelDirectory {
  /** The replica holding the host's tunnel, as last heard (this replica's own tunnels included). */
  replicaOf(hostname: string): string | undefined;
  /** This replica's tunnel to a host opened or closed: recorded in the store (batched) and told to the others. */
  localChanged(hostname: string, up: boolean): void;
  /** Hosts whose tunnel each replica holds. */
  counts(): Map<string, number>;
  start(): void;
  /** Writes what is pending; with `release`, also clears every host this replica held (a clean shutdown). */
  stop(release: boolean): void;
}

/** Writes of tunnel owners are batched: a reconnect storm opens thousands of tunnels a second. */
const WRITE_EVERY_MS = 200;
/** How often the directory is read back from the store (what a bus outage lost). */
const RELOAD_MS = 30_000;

export function createTunnelDirectory(deps: {
  store: TunnelOwnersStore;
  bus: Pick<CpBus, 'publish' | 'subscribe' | 'replicaId'>;
  log: Logger;
}): TunnelDirectory {
  const owners = new Map<string, string>();
  const pending = new Map<string, boolean>();
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  const self = deps.bus.replicaId;

  const flush = (): void => {
    if (pending.size === 0) return;
    const batch = [...pending];
    pending.clear();
    try {
      deps.store.setReplicas(self, batch.map(([hostname, up]) => ({ hostname, up })));
    } catch (err) {
      // Kept for the next flush unless a newer change came meanwhile.
      for (const [hostname, up] of batch) if (!pending.has(hostname)) pending.set(hostname, up);
      deps.log.warn({ err }, 'could not record tunnel owners');
    }
  };

  /**
   * Reads every other replica's tunnels back from the store: at start, and every RELOAD_MS, because core NATS does not
   * replay what a replica missed while its bus was down.
   */
  const reload = (): void => {
    try {
      const stored = deps.store.withReplica();
      for (const [hostname, replica] of owners) if (replica !== self) owners.delete(hostname);
      for (const row of stored) if (row.replica_id !== self) owners.set(row.hostname, row.replica_id);
    } catch (err) {
      deps.log.warn({ err }, 'could not read tunnel owners back from the store');
    }
  };
  let reloader: NodeJS.Timeout | undefined;

  return {
    replicaOf: (hostname) => owners.get(hostname),
    localChanged(hostname, up) {
      if (up) owners.set(hostname, self);
      else if (owners.get(hostname) === self) owners.delete(hostname);
      pending.set(hostname, up);
      deps.bus.publish('tunnel.changed', { hostname, replica: self, up });
    },
    counts() {
      const counts = new Map<string, number>();
      for (const replica of owners.values()) counts.set(replica, (counts.get(replica) ?? 0) + 1);
      return counts;
    },
    start() {
      reload();
      unsubscribe = deps.bus.subscribe('tunnel.changed', (m, origin) => {
        if (origin === self) return;
        if (m.up) owners.set(m.hostname, m.replica);
        else if (owners.get(m.hostname) === m.replica) owners.delete(m.hostname);
      });
      timer = setInterval(flush, WRITE_EVERY_MS);
      timer.unref();
      reloader = setInterval(reload, RELOAD_MS);
      reloader.unref();
    },
    stop(release) {
      if (timer) clearInterval(timer);
      if (reloader) clearInterval(reloader);
      unsubscribe?.();
      if (release) for (const [hostname, replica] of owners) if (replica === self) pending.set(hostname, false);
      flush();
    },
  };
}
