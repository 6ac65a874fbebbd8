/** The IPC contract between the jobs-mode suite (parent) and its simulated-host children (`jobs-fleet-child.ts`). */
import type { BucketLocation } from '../../src/transport/bucket/bucket.js';
import type { ClaimTiming, JobsHostCounters } from './jobs-host.js';
import type { FleetTarget } from './messages.js';

/** Parent → child. */
export type ToJobsChild =
  /** Registers each host not registered yet through the CP's `/v1/register` (fresh key + CSR, as a daimon does); the CA comes back in the answer. */
  | { type: 'register'; target: FleetTarget; joinToken: string; hostnames: string[]; localAddress: string; concurrency: number }
  /** Registers this child's first `count` hosts through the bucket (reg_req, then the CP's reg_ans read every `pollMs`). */
  | { type: 'register-bucket'; location: BucketLocation; joinToken: string; hostnames: string[]; count: number; pollMs: number }
  /** Makes a key per host without any CP (the sim-only mode: the parent signs jobs with a CA key of its own). */
  | { type: 'keys'; hostnames: string[]; caPem: string }
  /** Opens the bucket and starts every host polling (first polls jittered over one interval). */
  | { type: 'start'; location: BucketLocation; pollMs: number; heartbeatEvery: number }
  /** Every host's counters, and the claims made since the last `stats`. */
  | { type: 'stats' }
  /**
   * The first `hosts` hosts of this child each write `objects` events objects of `recordsPerObject` findings of a tick
   * run of their own, one PUT in flight per host. `open` writes only each run's run_start instead (one object per host).
   */
  | { type: 'stream'; hosts: number; objects: number; recordsPerObject: number; open: boolean }
  | { type: 'close' };

/** Child → parent. */
export type FromJobsChild =
  | { type: 'ready' }
  | { type: 'registered'; count: number; ms: number; failures: number; firstError?: string }
  | { type: 'keyed'; count: number; ms: number }
  | { type: 'started'; count: number }
  | {
      type: 'stats';
      hosts: { host: string; counters: JobsHostCounters }[];
      claims: ClaimTiming[];
      /** HTTP attempts the child's S3 client made, by operation (retries included). */
      requests: Record<string, number>;
    }
  | { type: 'streamed'; objects: number; records: number; firstPutAt: number; lastPutAt: number; errors: number }
  | { type: 'error'; message: string };
