/** The IPC contract between a benchmark suite (parent) and its simulated-daimon fleet children. */

/** Where the CP is and how to join it. */
export interface FleetTarget {
  host: string;
  port: number;
  ca: string;
}

/** Parent → child. */
export type ToChild =
  | { type: 'register'; target: FleetTarget; joinToken: string; hostnames: string[]; localAddress: string; concurrency: number }
  | { type: 'connect'; upTo: number; concurrency: number }
  | { type: 'record'; on: boolean }
  | { type: 'stats' }
  | { type: 'dispatch-stats' }
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
  | { type: 'connected'; count: number; ms: number; failures: number; firstError?: string }
  | { type: 'stats'; connected: number; closed: number; rttMs: number[]; local: ChildPercentiles }
  | {
      type: 'dispatch-stats';
      /** Epoch ms (Date.now) of each dispatch_ack sent and each run_end acknowledged by the CP. */
      ackAt: number[];
      endAckAt: number[];
      firstDispatchAt: number;
    }
  | { type: 'error'; message: string };
