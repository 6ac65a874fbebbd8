import type { Logger } from 'pino';
import type { Bucket } from '../../transport/bucket/bucket.js';
import type { BucketLayout } from '../../protocol/bucket-layout.js';
import type { EventIngest } from '../../transport/types.js';
import { createBackoff } from '../store/store-health.js';
import type { HostKeys } from './host-keys.js';
import type { InboxCleanup } from './inbox-cleanup.js';
import type { Quarantine, QuarantineCode } from './quarantine.js';
import type { BucketRegistration } from './bucket-registration.js';
import type { BucketRenewal } from './bucket-renewal.js';
import { scanOutbox, type OutboxDeps } from './scan-outbox.js';
import { createHeartbeatScan, type HeartbeatSink } from './scan-heartbeats.js';
import { scanRegistrations } from './scan-registrations.js';
import type { ScanContext } from './scan-context.js';

/** Counters of the scanner since the CP started (for logs, tests and `/metrics`). */
export interface ScannerStats {
  passes: number;
  failedPasses: number;
  eventObjects: number;
  records: number;
  exits: number;
  /** Upgrade reports handed to the rollouts. */
  upgrades: number;
  heartbeats: number;
  registrations: number;
  refusedRegistrations: number;
  renewals: number;
  refusedRenewals: number;
  quarantined: Readonly<Record<QuarantineCode, number>>;
  lastPassMs: number | null;
  /** When (ms since the epoch) the last complete pass started: every object written before then has been read. */
  lastCompletePassStartedAt: number | null;
  /** When the scanner was started; null while it is stopped (a follower replica, or before the CP leads). */
  runningSince: number | null;
}

/** The CP's bucket scanner. */
export interface BucketScanner {
  start(): void;
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
  /** Runs one pass now (or waits for the one in progress and runs another); rejects when the bucket failed. */
  scanNow(): Promise<void>;
  stats(): ScannerStats;
}

/**
 * Scans the bucket every `scanMs` (SPEC §3.2, docs/jobs-mode.md): LIST `out/` (events and exits of every host), LIST
 * `hb/` (GET only the heartbeats that changed), LIST `reg/` (registrations and renewals). A pass never runs concurrently with itself; a failed
 * pass (the bucket unreachable) is logged once per outage and retried with backoff; nothing escapes the timer.
 */
export function createBucketScanner(deps: {
  bucket: Bucket;
  layout: BucketLayout;
  hostKeys: HostKeys;
  ingest: EventIngest;
  liveness: HeartbeatSink;
  registration: BucketRegistration;
  /** Certificate renewal through the bucket; absent: renewal requests are quarantined. */
  renewal?: BucketRenewal;
  quarantine: Quarantine;
  cleanup: InboxCleanup;
  /** Hosts' upgrade reports (`out/HOST/….upgrade`) go here. */
  onUpgradeStatus?: OutboxDeps['onUpgradeStatus'];
  /** The version a host's heartbeats name changed (scan-heartbeats.ts). */
  onVersion?: (hostname: string, version: string) => void;
  scanMs: number;
  /** Keys per LIST page (default 1000). */
  pageSize?: number;
  now: () => number;
  log: Logger;
}): BucketScanner {
  const log = deps.log.child({ component: 'bucket-scanner', bucket: deps.bucket.description });
  const ctx: ScanContext = { bucket: deps.bucket, layout: deps.layout, quarantine: deps.quarantine, now: deps.now, log, ...(deps.pageSize !== undefined && { pageSize: deps.pageSize }) };
  const heartbeats = createHeartbeatScan({ hostKeys: deps.hostKeys, liveness: deps.liveness, ...(deps.onVersion && { onVersion: deps.onVersion }) });
  const backoff = createBackoff(deps.scanMs, Math.max(deps.scanMs, 60_000));
  const stats = { passes: 0, failedPasses: 0, eventObjects: 0, records: 0, exits: 0, upgrades: 0, heartbeats: 0, registrations: 0, refusedRegistrations: 0, renewals: 0, refusedRenewals: 0, lastPassMs: null as number | null, lastCompletePassStartedAt: null as number | null, runningSince: null as number | null };
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let stopped = true;
  let outageSince: number | undefined;

  const pass = async (): Promise<void> => {
    const started = performance.now();
    const startedAt = deps.now();
    const out = await scanOutbox(ctx, {
      hostKeys: deps.hostKeys, ingest: deps.ingest, cleanup: deps.cleanup, ...(deps.onUpgradeStatus && { onUpgradeStatus: deps.onUpgradeStatus }),
    });
    const hb = await heartbeats.scan(ctx);
    const reg = await scanRegistrations(ctx, deps.registration, deps.renewal);
    stats.passes++;
    stats.eventObjects += out.events;
    stats.records += out.records;
    stats.exits += out.exits;
    stats.upgrades += out.upgrades;
    stats.heartbeats += hb;
    stats.registrations += reg.answered;
    stats.refusedRegistrations += reg.refused;
    stats.renewals += reg.renewed;
    stats.refusedRenewals += reg.renewRefused;
    stats.lastPassMs = Math.round(performance.now() - started);
    stats.lastCompletePassStartedAt = startedAt;
    if (out.events + out.exits + out.upgrades + reg.answered + reg.refused + reg.renewed + reg.renewRefused > 0) {
      log.debug({ events: out.events, records: out.records, exits: out.exits, upgrades: out.upgrades, heartbeats: hb, registrations: reg.answered + reg.refused, renewals: reg.renewed + reg.renewRefused, ms: stats.lastPassMs }, 'bucket scanned');
    }
  };

  // Passes queue behind each other: a pass never runs concurrently with itself.
  const runPass = (): Promise<void> => {
    const p = chain.then(pass);
    chain = p.catch(() => undefined);
    return p;
  };

  const tick = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    let wait = deps.scanMs;
    try {
      await runPass();
      if (outageSince !== undefined) {
        log.warn({ outage_ms: deps.now() - outageSince }, 'the bucket answers again');
        outageSince = undefined;
      }
      backoff.reset();
    } catch (err) {
      stats.failedPasses++;
      wait = backoff.next();
      if (outageSince === undefined) {
        outageSince = deps.now();
        log.error({ err }, 'bucket scan failed; retrying with backoff');
      } else {
        log.debug({ err: (err as Error).message, retry_ms: wait }, 'bucket scan still failing');
      }
    }
    if (!stopped) {
      timer = setTimeout(() => void tick(), wait);
      timer.unref();
    }
  };

  return {
    start() {
      stopped = false;
      stats.runningSince = deps.now();
      timer = setTimeout(() => void tick(), 0);
      timer.unref();
    },
    async stop() {
      stopped = true;
      stats.runningSince = null;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await chain;
    },
    scanNow: () => runPass(),
    stats: () => ({ ...stats, quarantined: deps.quarantine.counts() }),
  };
}
