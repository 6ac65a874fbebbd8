import type { Logger } from 'pino';
import { loadavg } from 'node:os';
import type { ReplicasRepo } from '../store/store-contract.js';
import type { ReplicaRow } from '../store/replicas.js';

/** What membership needs of the store (`store.replicas`). */
export type ReplicasStore = Pick<ReplicasRepo, 'heartbeat' | 'list' | 'remove'>;

/** The replicas of a CP: this one announces itself, and every replica knows which others are alive. */
export interface ReplicaMembership {
  /** Replicas heard within the liveness window, this one included. */
  alive(): ReplicaRow[];
  isAlive(replicaId: string): boolean;
  /** Every replica in the store, alive or not (`okesu cp replicas`). */
  all(): ReplicaRow[];
  start(): void;
  /** Stops announcing and removes this replica's row (a clean shutdown). */
  stop(): void;
}

export const REPLICA_HEARTBEAT_MS = 2_000;
/** A replica not heard for this long is dead to the others (replicas' clocks are assumed within a few seconds). */
export const REPLICA_DEAD_AFTER_MS = 10_000;

export function createReplicaMembership(deps: {
  replicas: ReplicasStore;
  self: { id: string; url: () => string; version: string; startedAt: number };
  /** Tunnels this replica holds now. */
  tunnels: () => number;
  now: () => number;
  log: Logger;
  heartbeatMs?: number;
}): ReplicaMembership {
  let known: ReplicaRow[] = [];
  let timer: NodeJS.Timeout | undefined;
  const heartbeatMs = deps.heartbeatMs ?? REPLICA_HEARTBEAT_MS;

  const beat = (): void => {
    try {
      const [load1] = loadavg();
      deps.replicas.heartbeat({
        id: deps.self.id, url: deps.self.url(), version: deps.self.version, started_at: deps.self.startedAt,
        heard_at: deps.now(), tunnels: deps.tunnels(), load: Math.round((load1 ?? 0) * 100) / 100,
      });
      known = deps.replicas.list();
    } catch (err) {
      deps.log.warn({ err }, 'replica heartbeat failed');
    }
  };
  const isAlive = (row: ReplicaRow): boolean => row.id === deps.self.id || deps.now() - row.heard_at < REPLICA_DEAD_AFTER_MS;

  return {
    alive: () => known.filter(isAlive),
    isAlive: (id) => id === deps.self.id || known.some((r) => r.id === id && isAlive(r)),
    all: () => known,
    start() {
      beat();
      timer = setInterval(beat, heartbeatMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      try {
        deps.replicas.remove(deps.self.id);
      } catch (err) {
        deps.log.warn({ err }, 'could not remove this replica from the store');
      }
    },
  };
}
