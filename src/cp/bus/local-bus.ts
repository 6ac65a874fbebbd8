import type { Logger } from 'pino';
import type { CpBus, DeliveryAnswer, HostDelivery } from './cp-bus.js';
import { createTopicFanout } from './topic-fanout.js';

/**
 * The single CP's bus: in-process, synchronous delivery to subscribers in publish order, a throwing subscriber logged
 * (when `log` is given) and isolated. There is no other replica: `deliver` answers `{ delivered: false }` at once
 * unless it names this replica, which the `onDelivery` handler serves.
 */
export function createLocalBus(replicaId = 'local', log?: Logger): CpBus {
  const fanout = createTopicFanout(log);
  let deliveryHandler: ((delivery: HostDelivery) => Promise<DeliveryAnswer>) | undefined;
  return {
    replicaId,
    publish(topic, message) {
      fanout.emit(topic, message, replicaId);
    },
    subscribe: (topic, handler) => fanout.subscribe(topic, handler),
    deliver(replica, delivery) {
      return replica === replicaId ? deliverHere(replicaId, deliveryHandler, delivery) : Promise.resolve({ delivered: false, error: 'no other replica' });
    },
    onDelivery(handler) {
      if (deliveryHandler) throw new Error('the bus delivery handler is already set');
      deliveryHandler = handler;
    },
    connected: () => true,
    close() {
      fanout.clear();
      return Promise.resolve();
    },
  };
}

/** Serves a delivery addressed to this replica with its handler; a missing or failing handler answers `delivered: false`. */
export async function deliverHere(
  replicaId: string,
  handler: ((delivery: HostDelivery) => Promise<DeliveryAnswer>) | undefined,
  delivery: HostDelivery,
): Promise<DeliveryAnswer> {
  if (!handler) return { delivered: false, error: `replica ${replicaId} serves no deliveries yet` };
  try {
    return await handler(delivery);
  } catch (err) {
    return { delivered: false, error: err instanceof Error ? err.message : String(err) };
  }
}
