import type { DispatchEnvelope } from '../../protocol/dispatch.js';
import type { DispatchRoute } from '../../transport/types.js';
import type { CpBus, HostDelivery } from '../bus/cp-bus.js';
import type { TunnelDirectory } from './tunnel-directory.js';
import type { ReplicaMembership } from './replica-membership.js';

/**
 * The tunnel as seen from a replica that does not hold it: a dispatch or cancel for a host whose tunnel another live
 * replica holds is handed to that replica over the bus, which sends it on the tunnel and answers. Named `tunnel`
 * because that is the transport the host uses (`--dispatch tunnel` includes it).
 */
export function createRemoteTunnelRoute(deps: {
  bus: Pick<CpBus, 'deliver' | 'replicaId'>;
  directory: Pick<TunnelDirectory, 'replicaOf'>;
  membership: Pick<ReplicaMembership, 'isAlive'>;
}): DispatchRoute {
  const holder = (hostname: string): string | undefined => {
    const replica = deps.directory.replicaOf(hostname);
    return replica !== undefined && replica !== deps.bus.replicaId && deps.membership.isAlive(replica) ? replica : undefined;
  };
  const send = async (hostname: string, delivery: HostDelivery): Promise<void> => {
    const replica = holder(hostname);
    if (replica === undefined) throw new Error(`no replica holds the tunnel of ${hostname}`);
    const answer = await deps.bus.deliver(replica, delivery);
    if (!answer.delivered) throw new Error(`replica ${replica} could not deliver to ${hostname}: ${answer.error}`);
  };
  return {
    name: 'tunnel',
    canReach: (hostname) => holder(hostname) !== undefined,
    whyNot: (hostname) => (holder(hostname) === undefined ? 'no other replica holds its tunnel' : undefined),
    dispatch: (hostname: string, envelope: DispatchEnvelope) => send(hostname, { kind: 'dispatch', hostname, envelope }),
    cancel: (hostname, runId, reason) => send(hostname, { kind: 'cancel', hostname, run_id: runId, reason }),
  };
}
