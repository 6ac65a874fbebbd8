import type { AuthLimitOptions } from './http/auth-failures.js';
import type { CpClock } from './orchestration/clock.js';
import type { Bucket, BucketLocation } from '../transport/bucket/bucket.js';
import type { ChannelSender } from './notify/channel-sender.js';
import type { NotifierDeps } from './notify/notifier.js';

/** How to run a control plane. */
export interface ControlPlaneOptions {
  stateDir: string;
  host: string;
  port: number;
  /**
   * Where the CP's data lives: absent for SQLite in the state directory (one CP), or `postgres://…` for a store shared
   * by the replicas of a cluster (`cp serve --store`; then `bus` and `clusterKeyFile` are needed too).
   */
  store?: string;
  /** The cluster's bus, `nats://…` (`cp serve --bus`). */
  bus?: string;
  /** This replica's id (`cp serve --replica-id`; default the machine's hostname). */
  replicaId?: string;
  /** The cluster key that seals the shared CA and server keys in the store (`cp serve --cluster-key-file`). */
  clusterKeyFile?: string;
  /** The URL other replicas reach this one at (default https://<listen host>:<port>). */
  replicaUrl?: string;
  /** Leader lease timing, for tests (default 10 s valid, renewed every 2 s). */
  leaseTiming?: { ttlMs?: number; renewMs?: number };
  /** Heartbeat interval told to daimons at connect (default 5 s). */
  heartbeatIntervalMs?: number;
  /** Tunnel handshakes per second daimons are paced to after a CP restart (default 150). */
  reconnectRatePerS?: number;
  /** How often "last heard" is flushed to the store (default 1 s). */
  livenessFlushMs?: number;
  /** Extra names for the server certificate. */
  sans?: string[];
  /** URL written into admin.yaml; default https://<listen host or 127.0.0.1>:<port>. */
  advertiseUrl?: string;
  /** Agent definitions the CP sends with dispatches, by name (default: looked up in `agentLibrary`). */
  resolveDefinition?: (agent: string) => string | undefined;
  /** Every agent definition the CP can send, name → file text, read on each `GET /v1/agents` (default none). */
  agentLibrary?: () => ReadonlyMap<string, string>;
  /** Time and timers of the orchestration schedules (cron triggers); default the real clock. Tests inject a manual one. */
  clock?: CpClock;
  version: string;
  /** Per-address budget of failed authentications (default DEFAULT_AUTH_LIMIT; `burst: 0` turns limiting off). */
  authLimit?: Partial<AuthLimitOptions>;
  /** Lifetime of the client certificates the CP issues and renews (default 365 days). */
  hostCertTtlMs?: number;
  /** The jobs bucket (`--bucket s3://…`): hosts that use it are dispatched to and heard through it (SPEC §3.2). */
  bucket?: BucketLocation;
  /** An already open bucket to use instead of opening `bucket` (tests, embedded use); its prefix is `bucket.prefix` or ''. */
  bucketStore?: Bucket;
  /** Time between two scans of the bucket (default 5 s). */
  bucketScanMs?: number;
  /** Keys per LIST page of the bucket scanner (default 1000, S3's maximum); tests make it small to page cheaply. */
  bucketListPageSize?: number;
  /** Release public keys (`ed25519:…`, `cp serve --release-key`): uploads must be signed by one; registering hosts learn them. */
  releaseKeys?: readonly string[];
  /** How many releases the CP keeps (`cp serve --keep-releases`; default DEFAULT_KEEP_RELEASES). */
  keepReleases?: number;
  /** Rollout timing for tests: the no-report margin beyond the health timeout (default 10 min) and its sweep (5 s). */
  rolloutTiming?: { downloadMarginMs?: number; sweepMs?: number };
  /** A plain-HTTP listener for /metrics, /v1/health and /v1/ready, without authentication (`cp serve --metrics-listen`); off when absent. */
  metricsListen?: { host: string; port: number };
  /** Alert delivery: the senders by kind (default: the webhook's) and, for tests, its timing (docs/notifications.md). */
  notify?: { senders?: readonly ChannelSender[]; timing?: NotifierDeps['timing'] };
}
