import type { FeedKind } from '../store/feed.js';
import type { DispatchEnvelope } from '../../protocol/dispatch.js';
import type { UpgradeOrder, UpgradeReport } from '../../protocol/rollout.js';

/**
 * What the CP's parts tell each other, by topic. Every message is plain JSON: on a replicated CP (`--bus nats://…`)
 * the cluster-wide topics cross replicas. Two implementations of `CpBus`:
 * - `createLocalBus()` (src/cp/bus/local-bus.ts): in-process, synchronous delivery in publish order — the single CP;
 * - `createNatsBus(url, …)` (src/cp/bus/nats-bus.ts): local delivery as above, and the cluster-wide topics also go to
 *   every other replica over NATS core subjects `okesu.<cluster>.<topic>`.
 */
export interface CpMessages {
  /**
   * Entries committed to the feed, in cursor order (cluster-wide). The feed is the CP's replicated log: the live stream,
   * run waiters, the orchestration engine (kind `run`) and finding triggers (kind `finding`) all follow it. A receiver
   * that sees a cursor gap reads the store (`feed.after`) — the store, not the bus, is the truth.
   */
  feed: { entries: FeedMessageEntry[] };
  /** A host's tunnel opened (`replica` holds it) or closed there (cluster-wide): the tunnel directory follows it. */
  'tunnel.changed': { hostname: string; replica: string; up: boolean };
  /**
   * What a host told the replica holding its tunnel that the rollouts need (cluster-wide; the leader's rollouts act on
   * it): the version it runs at hello, or how an upgrade is going.
   */
  'host.report': { hostname: string; version: string } | { hostname: string; upgrade: UpgradeReport };
}

/** One feed entry as it travels on the bus: its cursor, kind and the payload the live stream sends. */
export interface FeedMessageEntry {
  cursor: number;
  kind: FeedKind;
  payload: unknown;
}

/** A frame for a host whose tunnel may live on another replica (`CpBus.deliver`). */
export type HostDelivery =
  | { kind: 'dispatch'; hostname: string; envelope: DispatchEnvelope }
  | { kind: 'cancel'; hostname: string; run_id: string; reason: string }
  | { kind: 'upgrade'; hostname: string; order: UpgradeOrder }
  /** The host was removed: its tunnel is closed with this code. */
  | { kind: 'disconnect'; hostname: string; code: 'OKS_ERR_HOST_REVOKED' };

/** What the replica holding the host's tunnel answered. */
export type DeliveryAnswer = { delivered: true; replica: string } | { delivered: false; error: string };

/** Typed publish/subscribe between the CP's parts, and directed delivery to the replica that holds a host's tunnel. */
export interface CpBus {
  /** This replica's id (`cp serve --replica-id`; `local` on a single CP). */
  readonly replicaId: string;
  /** Delivers to every subscriber of `topic` here (synchronously, in order) and, on a cluster, on every other replica. */
  publish<K extends keyof CpMessages>(topic: K, message: CpMessages[K]): void;
  /** `origin` is the publishing replica's id. Returns the unsubscribe function. */
  subscribe<K extends keyof CpMessages>(topic: K, handler: (message: CpMessages[K], origin: string) => void): () => void;
  /**
   * Asks the replica `replica` to hand a frame to the host's tunnel there; resolves with its answer, or
   * `{ delivered: false }` when that replica does not answer within `timeoutMs` (default 10 s: past the store's 5 s lock timeout). A single CP has no
   * other replica and answers `{ delivered: false }` at once.
   */
  deliver(replica: string, delivery: HostDelivery, timeoutMs?: number): Promise<DeliveryAnswer>;
  /** Serves `deliver` requests addressed to this replica (set once, by the CP's wiring). */
  onDelivery(handler: (delivery: HostDelivery) => Promise<DeliveryAnswer>): void;
  /** False while a cluster bus is disconnected from its server (for `/v1/ready` and `okesu cp replicas`). */
  connected(): boolean;
  close(): Promise<void>;
}
