import type { HostState, HostView } from '../protocol/api.js';
import type { AlongsideWrite } from './ingest-queue.js';
import type { HostStanding } from './liveness.js';
import type { HostRow, HostTransport } from './store/hosts.js';

/**
 * The liveness tracker, built by `createLiveness` (`liveness.ts`): "last heard" per host in memory, flushed to the
 * store by a timer, which also turns silence into state transitions (online → stale → offline) on the feed. Each host
 * is judged by its own interval: the tunnel's heartbeat while its tunnel is up, else its bucket heartbeats'.
 */
export interface Liveness {
  /** Loads last-heard times from the store so states survive a CP restart. */
  load(): void;
  /**
   * A host was heard (heartbeat, hello); it returns to online at once. `at` is when it spoke, when that is not now
   * (a bucket heartbeat read after a CP restart: the time it was written, never later than now).
   */
  heard(hostname: string, h: { seq?: number; running?: number; spoolDepth?: number; at?: number }): void;
  /**
   * Records how a host reaches the CP (its tunnel hello; its bucket heartbeats): kept in memory for liveness and the
   * jobs route, written to the hosts row only when it changed (so it survives a restart). Call after `heard`.
   */
  setTransport(hostname: string, t: HostTransport): void;
  /** Whether a host uses the bucket, and its silence measured in its own interval (the jobs route's test). */
  standing(hostname: string): HostStanding | undefined;
  /** Marks the host's tunnel up or down. */
  setConnected(hostname: string, connected: boolean): void;
  /** Pending host changes as a write for the caller's transaction (ingest: feed order follows causality). */
  pendingAnnouncements(): AlongsideWrite | undefined;
  /** Forgets a removed host. */
  forget(hostname: string): void;
  /** A host's view now: its row with the live time, state and transport laid over it. */
  view(row: HostRow, now: number): HostView;
  /** Flushes and checks transitions now (also runs on the timer). */
  tick(): void;
  /** Heartbeats heard since the CP started (tunnel frames and bucket heartbeats; not hellos), for `/metrics`. */
  heartbeats(): number;
  /**
   * Live hosts by state as of the last tick, for `/metrics`: hosts never heard are offline. On a cluster, the leader's
   * count is the fleet's (it reads every replica's heartbeats); a follower knows the hosts it heard itself.
   */
  stateCounts(): Record<HostState, number>;
  /** Starts the flush timer. */
  start(): void;
  /** Stops the timer and makes a last flush; what the store refuses now is lost with the process (hosts re-send heartbeats). */
  stop(): void;
}
