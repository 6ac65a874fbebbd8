/** The IPC contract between a benchmark suite (parent) and its simulated-daimon fleet children. */

import type { HostIdentity } from '../lib/register-host.js';

/** Where the CP is and how to join it. */
export interface FleetTarget {
  host: string;
  port: number;
  ca: string;
}

/** Reconnect policy of durable sims (see `durable-sim.ts`). */
export interface BackoffSettings {
  baseMs: number;
  capMs: number;
  resetMs: number;
}

/** What a child's durable sims did so far (summed by the parent). */
export interface DurableStats {
  sims: number;
  online: number;
  emitted: number;
  /** Emitted and not yet acknowledged by the CP. */
  pending: number;
  resent: number;
  welcomes: number;
  failedAttempts: number;
  /** Welcomes on a resumed TLS session. */
  resumed: number;
  /** Date.now() of the latest welcome any sim got (0 when none). */
  lastUpAt: number;
  /** Date.now() when the last up tunnel closed (0 when none did). */
  lastDownAt: number;
}

/** One durable sim's history: Date.now() of each welcome, and of each close of an up tunnel with its close code. */
export interface SimTimeline {
  upAt: number[];
  downAt: [number, number][];
}

/** Parent → child. */
export type ToChild =
  | { type: 'register'; target: FleetTarget; joinToken: string; hostnames: string[]; localAddress: string; concurrency: number }
  /** Takes identities registered earlier (the run's fleet template, `fleet-template.ts`) instead of registering. */
  | { type: 'load'; target: FleetTarget; identities: HostIdentity[]; localAddress: string }
  /** Asks for this child's registered identities (to keep them as the run's fleet template). */
  | { type: 'identities' }
  | { type: 'connect'; upTo: number; concurrency: number }
  | { type: 'record'; on: boolean }
  | { type: 'stats' }
  | { type: 'dispatch-stats' }
  /** Starts reconnecting, event-keeping sims for the first `upTo` registered hosts (instead of `connect`). */
  | { type: 'durable-start'; upTo: number; concurrency: number; backoff: BackoffSettings }
  /** Turns every open tunnel of `connect` into a durable sim of its host, without reconnecting (a shared fleet, `shared-fleet.ts`). */
  | { type: 'durable-adopt'; backoff: BackoffSettings }
  /** Findings per second this child's durable sims emit in turn (0 stops). */
  | { type: 'durable-emit'; perSecond: number }
  | { type: 'durable-stats' }
  | { type: 'durable-timeline' }
  /** The child's event-loop delay since the last reset (then reset it when `reset`). */
  | { type: 'loop-delay'; reset: boolean }
  | { type: 'close' };

/** Percentiles a child computed over its own samples (the parent merges the raw samples for fleet-wide figures). */
export interface ChildPercentiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** Child → parent. */
export type FromChild =
  | { type: 'ready' }
  | { type: 'registered'; count: number; ms: number }
  | { type: 'loaded'; count: number }
  | { type: 'identities'; identities: HostIdentity[] }
  | { type: 'connected'; count: number; ms: number; failures: number; firstError?: string }
  | { type: 'stats'; connected: number; closed: number; rttMs: number[]; local: ChildPercentiles }
  | {
      type: 'dispatch-stats';
      /** Epoch ms (Date.now) of each dispatch_ack sent and each run_end acknowledged by the CP. */
      ackAt: number[];
      endAckAt: number[];
      firstDispatchAt: number;
    }
  | { type: 'durable-started'; count: number; ms: number }
  | ({ type: 'durable-stats' } & DurableStats)
  | { type: 'durable-timeline'; sims: SimTimeline[] }
  | { type: 'loop-delay'; p99Ms: number; maxMs: number }
  | { type: 'error'; message: string };
