import { loadavg } from 'node:os';
import type { Logger } from 'pino';
import type { DispatchRoute } from '../../transport/types.js';
import type { CpBus, CpMessages, DeliveryAnswer, HostDelivery } from '../bus/cp-bus.js';
import type { UpgradeOrder } from '../../protocol/rollout.js';
import type { ReplicasResponse } from '../../protocol/replicas.js';
import { leaseLeadership, soleLeadership, type LeaseStore, type Leadership } from './leadership.js';
import { createReplicaMembership, type ReplicaMembership, type ReplicasStore } from './replica-membership.js';
import { createTunnelDirectory, type TunnelDirectory, type TunnelOwnersStore } from './tunnel-directory.js';
import { createRemoteTunnelRoute } from './remote-route.js';
import { createLeaderForward, type LeaderForward } from './leader-forward.js';

/** This replica's own tunnels, as the cluster needs them: to deliver what other replicas hand over. */
export interface LocalTunnels {
  route: DispatchRoute;
  sendUpgrade(hostname: string, order: UpgradeOrder): boolean;
  disconnect(hostname: string, code: 'OKS_ERR_HOST_REVOKED'): void;
  count(): number;
}

/** What a host said that the leader's rollouts act on: its version at hello, or an upgrade's progress. */
export type HostReport = CpMessages['host.report'];

/** Upgrade orders to hosts wherever their tunnel is (the rollouts' tunnel path). */
export interface UpgradeTunnel {
  canReach(hostname: string): boolean;
  /** Hands the order over; true when it was sent here or handed to the replica holding the tunnel. */
  sendUpgrade(hostname: string, order: UpgradeOrder): boolean;
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
  /** Upgrade orders over this replica's tunnels or another's. */
  upgradeTunnel: UpgradeTunnel;
  /** Hands a host's report to the leader's rollouts: here when this replica leads, else over the bus. */
  reportToLeader(report: HostReport): void;
  /** Sets who acts on host reports on the leader (once). */
  onHostReport(handler: (report: HostReport) => void): void;
  /** Closes a removed host's tunnel wherever it is. */
  disconnect(hostname: string): void;
  /** `GET /v1/replicas`: every replica in the store (a single CP lists itself). */
  replicas(self: { version: string; startedAt: number; tunnels: number; now: number }): ReplicasResponse;
  start(): void;
  stop(): void;
}

/** A single CP: it leads, holds every tunnel there is, and forwards nothing. */
export function singleRuntime(replicaId: string, tunnels: LocalTunnels): ClusterRuntime {
  const leadership = soleLeadership(replicaId);
  let handler: ((report: HostReport) => void) | undefined;
  return {
    leadership, membership: undefined, directory: undefined, remoteRoutes: [], forward: undefined,
    tunnelChanged: () => undefined,
    upgradeTunnel: { canReach: (hostname) => tunnels.route.canReach(hostname), sendUpgrade: (hostname, order) => tunnels.sendUpgrade(hostname, order) },
    reportToLeader: (report) => handler?.(report),
    onHostReport: (h) => void (handler = h),
    disconnect: (hostname) => tunnels.disconnect(hostname, 'OKS_ERR_HOST_REVOKED'),
    replicas: (self) => ({
      replicas: [{
        id: replicaId, url: '', version: self.version, started_at: self.startedAt, heard_at: self.now, alive: true, tunnels: self.tunnels,
        load: Math.round((loadavg()[0] ?? 0) * 100) / 100, leader: true,
      }],
      answered_by: replicaId, mode: 'single', bus_connected: true,
    }),
    start: () => leadership.start(),
    stop: () => leadership.stop(),
  };
}

/** Wires the replica's membership, leadership, tunnel directory, remote route and leader forwarding. */
export function clusterRuntime(deps: {
  bus: CpBus;
  store: { replicas: ReplicasStore; leases: LeaseStore; hosts: TunnelOwnersStore };
  tunnels: LocalTunnels;
  /** This replica's own URL, reachable by the other replicas (known once the port is bound). */
  selfUrl: () => string;
  version: string;
  caPem: string;
  /** The cluster's shared server certificate (what the leader presents to a forwarding follower). */
  serverCertPem: string;
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
  const directory = createTunnelDirectory({ store: deps.store.hosts, bus: deps.bus, log });
  const forward = createLeaderForward({
    replicaId, isLeader: () => leadership.isLeader(), caPem: deps.caPem, serverCertPem: deps.serverCertPem, log,
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
      else if (d.kind === 'disconnect') deps.tunnels.disconnect(d.hostname, d.code);
      else if (!deps.tunnels.sendUpgrade(d.hostname, d.order)) return { delivered: false, error: 'its tunnel closed' };
      return { delivered: true, replica: replicaId };
    } catch (err) {
      return { delivered: false, error: (err as Error).message };
    }
  };

  /** Another live replica holding the host's tunnel, if any. */
  const holderElsewhere = (hostname: string): string | undefined => {
    const replica = directory.replicaOf(hostname);
    return replica !== undefined && replica !== replicaId && membership.isAlive(replica) ? replica : undefined;
  };
  const handOver = (replica: string, delivery: HostDelivery): void => {
    void deps.bus.deliver(replica, delivery).then((answer) => {
      if (!answer.delivered) log.warn({ host: delivery.hostname, kind: delivery.kind, replica, error: answer.error }, 'hand-over to another replica failed');
    });
  };
  let reportHandler: ((report: HostReport) => void) | undefined;
  let unsubscribeReports: (() => void) | undefined;

  return {
    leadership, membership, directory, forward,
    remoteRoutes: [createRemoteTunnelRoute({ bus: deps.bus, directory, membership })],
    tunnelChanged: (hostname, up) => directory.localChanged(hostname, up),
    upgradeTunnel: {
      canReach: (hostname) => deps.tunnels.route.canReach(hostname) || holderElsewhere(hostname) !== undefined,
      sendUpgrade(hostname, order) {
        if (deps.tunnels.route.canReach(hostname)) return deps.tunnels.sendUpgrade(hostname, order);
        const replica = holderElsewhere(hostname);
        if (replica === undefined) return false;
        // The rollout's no-report timeout covers an order lost on the way, as it covers one lost on a tunnel.
        handOver(replica, { kind: 'upgrade', hostname, order });
        return true;
      },
    },
    reportToLeader(report) {
      if (leadership.isLeader()) reportHandler?.(report);
      else deps.bus.publish('host.report', report);
    },
    onHostReport: (handler) => void (reportHandler = handler),
    replicas() {
      const leader = leadership.leader();
      return {
        replicas: membership.all().map((r) => ({ ...r, alive: membership.isAlive(r.id), leader: r.id === leader })),
        answered_by: replicaId, mode: 'cluster', bus_connected: deps.bus.connected(),
      };
    },
    disconnect(hostname) {
      deps.tunnels.disconnect(hostname, 'OKS_ERR_HOST_REVOKED');
      const replica = holderElsewhere(hostname);
      if (replica !== undefined) handOver(replica, { kind: 'disconnect', hostname, code: 'OKS_ERR_HOST_REVOKED' });
    },
    start() {
      deps.bus.onDelivery(serveDelivery);
      // Reports published by followers; the leader's own go straight to the handler (its publications are local too).
      unsubscribeReports = deps.bus.subscribe('host.report', (report, origin) => {
        if (origin !== replicaId && leadership.isLeader()) reportHandler?.(report);
      });
      membership.start();
      directory.start();
      leadership.start();
    },
    stop() {
      unsubscribeReports?.();
      leadership.stop();
      directory.stop(true);
      membership.stop();
    },
  };
}
