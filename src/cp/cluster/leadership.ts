import type { Logger } from 'pino';
import type { LeasesRepo } from '../store/store-contract.js';

/** What leadership needs of the store (`store.leases`). */
export type LeaseStore = Pick<LeasesRepo, 'acquire' | 'release'>;

/**
 * One leader at a time among the CP's replicas: it runs what must run once per fleet (the orchestration engine's
 * timers, cron and finding triggers, the rollouts, the bucket scanner, the timeout and offline sweeps, feed pruning).
 */
export interface Leadership {
  isLeader(): boolean;
  /** The replica holding the lease as last seen (undefined before the first attempt). */
  leader(): string | undefined;
  epoch(): number;
  /** Called with true when this replica becomes the leader and false when it stops being it. */
  onChange(listener: (leader: boolean) => void): void;
  start(): void;
  /** Stops renewing and hands the lease back, so another replica takes over at once. */
  stop(): void;
}

/** The lease's name in the store. */
export const LEADER_LEASE = 'leader';
export const DEFAULT_LEASE_TTL_MS = 10_000;
export const DEFAULT_LEASE_RENEW_MS = 2_000;

/** A single CP leads for as long as it runs. */
export function soleLeadership(replicaId: string): Leadership {
  const listeners: Array<(leader: boolean) => void> = [];
  let leading = false;
  return {
    isLeader: () => leading,
    leader: () => replicaId,
    epoch: () => 1,
    onChange: (listener) => void listeners.push(listener),
    start() {
      leading = true;
      for (const l of listeners) l(true);
    },
    stop() {
      if (!leading) return;
      leading = false;
      for (const l of listeners) l(false);
    },
  };
}

/**
 * Leadership through a lease in the shared store, renewed every `renewMs` and valid for `ttlMs` by the store's clock.
 * A replica that cannot renew (the store unreachable) steps down before its lease can have expired by its own clock,
 * so two replicas never both believe they lead for longer than the clock drift between them over one `ttlMs`.
 */
export function leaseLeadership(deps: {
  leases: LeaseStore;
  replicaId: string;
  ttlMs?: number;
  renewMs?: number;
  log: Logger;
  now?: () => number;
}): Leadership {
  const ttlMs = deps.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const renewMs = deps.renewMs ?? DEFAULT_LEASE_RENEW_MS;
  const now = deps.now ?? ((): number => performance.now());
  const listeners: Array<(leader: boolean) => void> = [];
  let leading = false;
  let holder: string | undefined;
  let epoch = 0;
  let renewedAt = 0;
  let timer: NodeJS.Timeout | undefined;

  const become = (leader: boolean): void => {
    if (leader === leading) return;
    leading = leader;
    deps.log.info({ epoch }, leader ? 'this replica is now the leader' : 'this replica is no longer the leader');
    for (const l of listeners) {
      try {
        l(leader);
      } catch (err) {
        deps.log.error({ err }, 'a leadership listener failed');
      }
    }
  };

  const attempt = (): void => {
    const startedAt = now();
    try {
      const state = deps.leases.acquire(LEADER_LEASE, deps.replicaId, ttlMs);
      holder = state.holder;
      epoch = state.epoch;
      if (state.held) renewedAt = startedAt;
      become(state.held);
    } catch (err) {
      deps.log.warn({ err }, 'could not renew the leader lease');
      // Step down with a margin of two renewals before the lease can expire: another replica may take it then.
      if (leading && now() - renewedAt > ttlMs - 2 * renewMs) become(false);
    }
  };

  return {
    // A leader whose event loop stalled past its lease has not heard that it lost it: it stops counting itself leader
    // by its own clock, two renewals before the lease can have been taken.
    isLeader: () => leading && now() - renewedAt < ttlMs - 2 * renewMs,
    leader: () => holder,
    epoch: () => epoch,
    onChange: (listener) => void listeners.push(listener),
    start() {
      attempt();
      timer = setInterval(attempt, renewMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (!leading) return;
      become(false);
      try {
        deps.leases.release(LEADER_LEASE, deps.replicaId);
      } catch (err) {
        deps.log.warn({ err }, 'could not hand back the leader lease (it expires by itself)');
      }
    },
  };
}
