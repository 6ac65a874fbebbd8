import type { Logger } from 'pino';
import type { CpBus } from '../bus/cp-bus.js';
import type { HostsRepo } from '../store/store-contract.js';

/** What the directory needs of the store (`store.hosts`). */
export type TunnelOwnersStore = Pick<HostsRepo, 'setReplica' | 'withReplica'>;

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

export function createTunnelDirectory(deps: {
  store: TunnelOwnersStore;
  transaction: <T>(fn: () => T) => T;
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
      deps.transaction(() => {
        for (const [hostname, up] of batch) deps.store.setReplica(hostname, up ? self : null, up ? undefined : self);
      });
    } catch (err) {
      // Kept for the next flush unless a newer change came meanwhile.
      for (const [hostname, up] of batch) if (!pending.has(hostname)) pending.set(hostname, up);
      deps.log.warn({ err }, 'could not record tunnel owners');
    }
  };

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
      for (const row of deps.store.withReplica()) if (row.replica_id !== self) owners.set(row.hostname, row.replica_id);
      unsubscribe = deps.bus.subscribe('tunnel.changed', (m, origin) => {
        if (origin === self) return;
        if (m.up) owners.set(m.hostname, m.replica);
        else if (owners.get(m.hostname) === m.replica) owners.delete(m.hostname);
      });
      timer = setInterval(flush, WRITE_EVERY_MS);
      timer.unref();
    },
    stop(release) {
      if (timer) clearInterval(timer);
      unsubscribe?.();
      if (release) for (const [hostname, replica] of owners) if (replica === self) pending.set(hostname, false);
      flush();
    },
  };
}
