import type { Logger } from 'pino';
import type { DispatchRoute } from '../../transport/types.js';
import type { CpBus, DeliveryAnswer, HostDelivery } from '../bus/cp-bus.js';
import type { UpgradeOrder } from '../../protocol/rollout.js';
import { leaseLeadership, soleLeadership, type LeaseStore, type Leadership } from './leadership.js';
import { createReplicaMembership, type ReplicaMembership, type ReplicasStore } from './replica-membership.js';
import { createTunnelDirectory, type TunnelDirectory, type TunnelOwnersStore } from './tunnel-directory.js';
import { createRemoteTunnelRoute } from './remote-route.js';
import { createLeaderForward, type LeaderForward } from './leader-forward.js';

/** This replica's own tunnels, as the cluster needs them: to deliver what other replicas hand over. */
export interface LocalTunnels {
  route: DispatchRoute;
  sendUpgrade(hostname: string, order: UpgradeOrder): boolean;
  count(): number;
}

/** The parts a CP runs only when it is one replica of several (a Postgres store and a NATS bus). */
export interface ClusterRuntime {
  leadership: Leadership;
  membership: ReplicaMembership | undefined;
  directory: TunnelDirectory | undefined;
  /** Routes to hosts whose tunnel another replica holds (none on a single CP). */
  remoteRoutes: DispatchRoute[];
  forward: LeaderForward | undefined;
  /** This replica's tunnel to a host opened or closed. */
  tunnelChanged(hostname: string, up: boolean): void;
  start(): void;
  stop(): void;
}

/** A single CP: it leads, holds every tunnel there is, and forwards nothing. */
export function singleRuntime(replicaId: string): ClusterRuntime {
  const leadership = soleLeadership(replicaId);
  return {
    leadership, membership: undefined, directory: undefined, remoteRoutes: [], forward: undefined,
    tunnelChanged: () => undefined,
    start: () => leadership.start(),
    stop: () => leadership.stop(),
  };
}

/** Wires the replica's membership, leadership, tunnel directory, remote route and leader forwarding. */
export function clusterRuntime(deps: {
  bus: CpBus;
  store: { replicas: ReplicasStore; leases: LeaseStore; hosts: TunnelOwnersStore; transaction: <T>(fn: () => T) => T };
  tunnels: LocalTunnels;
  /** This replica's own URL, reachable by the other replicas (known once the port is bound). */
  selfUrl: () => string;
  version: string;
  caPem: string;
  now: () => number;
  log: Logger;
  leaseTtlMs?: number;
  leaseRenewMs?: number;
}): ClusterRuntime {
  const replicaId = deps.bus.replicaId;
  const log = deps.log.child({ component: 'cluster', replica: replicaId });
  const membership = createReplicaMembership({
    replicas: deps.store.replicas, self: { id: replicaId, url: deps.selfUrl, version: deps.version, startedAt: deps.now() },
    tunnels: () => deps.tunnels.count(), now: deps.now, log,
  });
  const leadership = leaseLeadership({
    leases: deps.store.leases, replicaId, log,
    ...(deps.leaseTtlMs !== undefined && { ttlMs: deps.leaseTtlMs }), ...(deps.leaseRenewMs !== undefined && { renewMs: deps.leaseRenewMs }),
  });
  const directory = createTunnelDirectory({ store: deps.store.hosts, transaction: deps.store.transaction, bus: deps.bus, log });
  const forward = createLeaderForward({
    replicaId, isLeader: () => leadership.isLeader(), caPem: deps.caPem, log,
    leaderUrl: () => {
      const leader = leadership.leader();
      return leader === undefined ? undefined : membership.alive().find((r) => r.id === leader)?.url;
    },
  });

  // What another replica hands over for a host whose tunnel is here.
  const serveDelivery = async (d: HostDelivery): Promise<DeliveryAnswer> => {
    if (!deps.tunnels.route.canReach(d.hostname)) return { delivered: false, error: `its tunnel is not on replica ${replicaId}` };
    try {
      if (d.kind === 'dispatch') await deps.tunnels.route.dispatch(d.hostname, d.envelope);
      else if (d.kind === 'cancel') await deps.tunnels.route.cancel(d.hostname, d.run_id, d.reason);
      else if (!deps.tunnels.sendUpgrade(d.hostname, d.order)) return { delivered: false, error: 'its tunnel closed' };
      return { delivered: true, replica: replicaId };
    } catch (err) {
      return { delivered: false, error: (err as Error).message };
    }
  };

  return {
    leadership, membership, directory, forward,
    remoteRoutes: [createRemoteTunnelRoute({ bus: deps.bus, directory, membership })],
    tunnelChanged: (hostname, up) => directory.localChanged(hostname, up),
    start() {
      deps.bus.onDelivery(serveDelivery);
      membership.start();
      directory.start();
      leadership.start();
    },
    stop() {
      leadership.stop();
      directory.stop(true);
      membership.stop();
    },
  };
}
