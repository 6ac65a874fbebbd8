import { X509Certificate, createPublicKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { bucketLayout } from '../../src/protocol/bucket-layout.js';
import { MAX_RECORDS_PER_OBJECT, hostParty } from '../../src/protocol/bucket-objects.js';
import type { ExitBody } from '../../src/protocol/bucket-objects.js';
import type { EventRecord } from '../../src/protocol/tunnel.js';
import type { Bucket } from '../../src/transport/bucket/bucket.js';
import { createObjectSigner } from '../../src/transport/bucket/signed-object.js';
import type { DaimonTransport, DaimonTransportHandlers } from '../../src/transport/types.js';
import type { DaimonIdentity } from '../identity.js';
import type { Logger } from 'pino';
import type { DaimonStatus } from '../tunnel-client.js';
import { exitsOf, hostObjects } from './host-objects.js';
import { createInboxReader } from './inbox-reader.js';
import { createBucketRenewer } from './bucket-renewal.js';
import { SEEN_UPGRADES, openSeenRuns } from './seen-runs.js';
import type { UpgradeReport } from '../../src/protocol/rollout.js';

/** Default batch window of event records. */
const DEFAULT_BATCH_MS = 1000;
/** Upgrade reports kept for a retry while the bucket fails (a few per rollout; the oldest go first). */
const MAX_PENDING_REPORTS = 64;
/** Default time between two polls of the inbox. */
export const DEFAULT_POLL_MS = 10_000;

/** How a jobs transport reaches its bucket and how often. */
export interface JobsTransportOptions {
  identity: Pick<DaimonIdentity, 'hostname' | 'keyPem' | 'caPem'>;
  bucket: Bucket;
  /** The bucket's key prefix ('' for its root). */
  prefix: string;
  /** The state directory: the seen-set lives in its `jobs/`. */
  stateDir: string;
  version: string;
  labels: Record<string, string>;
  status: () => DaimonStatus;
  /** What the heartbeats say this daimon runs: `jobs` alone, or `auto` (the tunnel with the bucket behind it). */
  mode?: 'jobs' | 'auto';
  /** Time between polls (default 10 s); the first poll is at start. */
  pollMs?: number;
  /** A heartbeat every this many polls (default 1). */
  heartbeatEvery?: number;
  /** Whether bucket heartbeats are written from the start (default true; the auto transport turns them on and off). */
  heartbeats?: boolean;
  /** Records offered within this long go into one events object (default 1 s): fewer PUTs while a run is chatty. */
  batchMs?: number;
  /** Keys per LIST page (default the store's 1000; tests page with fewer). */
  pageKeys?: number;
  /** Close the bucket on stop (default false: whoever opened it closes it). */
  closeBucket?: boolean;
  /**
   * Renew the certificate through the bucket (mode `jobs`: nothing else renews it). Absent in `auto` mode, where the
   * tunnel renews and hands the new key over with `setKey`.
   */
  renew?: { identity: DaimonIdentity; onRenewed?: (identity: DaimonIdentity) => void };
}

/** The jobs transport, plus what the auto transport and tests drive. */
export interface JobsTransport extends DaimonTransport {
  /** Signs with a renewed key from now on (auto mode: the tunnel renewed the certificate and its key). */
  setKey(keyPem: string): void;
  /** Turns bucket heartbeats on or off (auto mode writes them only while the tunnel is down). */
  setHeartbeats(on: boolean): void;
  /** Objects refused so far, by reason. */
  refusals(): Record<string, number>;
  /** Time between polls, and between heartbeats, in ms. */
  readonly pollMs: number;
  readonly intervalMs: number;
}

/**
 * The daimon's end of the S3 dead drop (SPEC §3.2, JOBS-DESIGN): polls its inbox every `pollMs` (one LIST when idle,
 * plus a heartbeat PUT every `heartbeatEvery` polls), claims jobs by conditional create, and writes its events as
 * signed objects under `out/<host>/` — a successful PUT is the acknowledgement — with a run's `exit` after the object
 * holding its `run_end`. Up while the last bucket request succeeded; its timers never throw.
 */
export function createJobsTransport(opts: JobsTransportOptions, deps: { log: Logger; now?: () => number }): JobsTransport {
  const now = deps.now ?? Date.now;
  const log = deps.log;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const every = opts.heartbeatEvery ?? 1;
  const host = opts.identity.hostname;
  const layout = bucketLayout(opts.prefix);
  // Rebuilt when the key is renewed; the CP keeps the previous key a while, so objects in flight still verify.
  let objects = hostObjects(layout, host, createObjectSigner(hostParty(host), opts.identity.keyPem), now);
  // Own public keys, newest first: claims this poller signed before a renewal are still recognised as its own.
  let ownKeys: KeyObject[] = [createPublicKey(opts.identity.keyPem)];
  const seen = openSeenRuns(opts.stateDir, log);
  const seenUpgrades = openSeenRuns(opts.stateDir, log, SEEN_UPGRADES);
  const poller = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const reader = createInboxReader({
    bucket: opts.bucket, layout, hostname: host, cpKey: new X509Certificate(opts.identity.caPem).publicKey, seen, seenUpgrades, objects: () => objects,
    poller, ownKeys: () => ownKeys, log, now,
    ...(opts.pageKeys !== undefined && { pageKeys: opts.pageKeys }),
  });

  const setKey = (keyPem: string): void => {
    objects = hostObjects(layout, host, createObjectSigner(hostParty(host), keyPem), now);
    ownKeys = [createPublicKey(keyPem), ...ownKeys].slice(0, 2);
  };
  const renewer = opts.renew && createBucketRenewer(
    {
      bucket: opts.bucket, layout, stateDir: opts.stateDir, identity: opts.renew.identity, objects: () => objects,
      onRenewed: (identity) => {
        setKey(identity.keyPem);
        opts.renew?.onRenewed?.(identity);
      },
    },
    { log, now },
  );

  let handlers: DaimonTransportHandlers | undefined;
  // undefined until the first request answers: then the first success is an onUp, the first failure an onDown.
  let up: boolean | undefined;
  let stopped = true;
  let heartbeatsOn = opts.heartbeats ?? true;
  let polls = 0;
  let heartbeatSeq = 0;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();
  // Event writes one after another, in the order the sender offered them.
  let writes: Promise<void> = Promise.resolve();
  const pendingExits: ExitBody[] = [];
  // Upgrade reports not written yet: retried on each poll, in order, until a PUT succeeds.
  const pendingReports: UpgradeReport[] = [];
  // Records offered and not yet handed to a write: one object per batch window rather than one per offer.
  let batch: EventRecord[] = [];
  let batchTimer: NodeJS.Timeout | undefined;

  const reached = (): void => {
    if (up === true) return;
    up = true;
    log.info({ bucket: opts.bucket.description }, 'bucket reachable');
    handlers?.onUp();
  };
  const failed = (what: string, err: unknown): void => {
    const reason = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    if (up === false) return void log.debug({ reason }, 'bucket still unreachable');
    up = false;
    log.warn({ bucket: opts.bucket.description, reason }, 'bucket unreachable; events stay in the spool');
    handlers?.onDown(reason);
  };

  const flushExits = async (): Promise<void> => {
    while (pendingExits.length > 0) {
      const exit = objects.exit(pendingExits[0] as ExitBody);
      try {
        await opts.bucket.put(exit.key, exit.body);
      } catch (err) {
        return failed('writing an exit', err);
      }
      pendingExits.shift();
    }
  };

  const flushReports = async (): Promise<void> => {
    while (pendingReports.length > 0) {
      const next = pendingReports[0] as UpgradeReport;
      const report = objects.upgradeReport(next);
      try {
        await opts.bucket.put(report.key, report.body);
      } catch (err) {
        return failed('writing an upgrade report', err);
      }
      // Unless the bound dropped it meanwhile.
      if (pendingReports[0] === next) pendingReports.shift();
      reached();
    }
  };

  const write = async (records: readonly EventRecord[]): Promise<void> => {
    // After a failed write the rest waits in the spool: the sender offers it again after the next onUp.
    if (up !== true) return;
    for (const { object, records: batch } of objects.events(records)) {
      try {
        await opts.bucket.put(object.key, object.body);
      } catch (err) {
        return failed('writing events', err);
      }
      reached();
      handlers?.onAck(batch.map((r) => ({ run_id: r.run_id, seq: r.seq })));
      pendingExits.push(...exitsOf(batch));
      await flushExits();
    }
  };

  const flush = (): void => {
    clearTimeout(batchTimer);
    batchTimer = undefined;
    if (batch.length === 0) return;
    const records = batch;
    batch = [];
    writes = writes.then(() => write(records)).catch((err: unknown) => log.error({ err }, 'writing events to the bucket failed'));
  };

  const heartbeat = async (): Promise<void> => {
    const status = opts.status();
    const hb = objects.heartbeat({
      seq: ++heartbeatSeq, mode: opts.mode ?? 'jobs', poll_ms: pollMs, interval_ms: pollMs * every, version: opts.version,
      running: status.running, spool_depth: status.spoolDepth, ...(Object.keys(opts.labels).length > 0 && { labels: opts.labels }),
    });
    await opts.bucket.put(hb.key, hb.body);
  };

  const pollOnce = async (): Promise<void> => {
    const h = handlers;
    if (!h) return;
    try {
      await reader.poll({
        onDispatch: (env) => !stopped && h.onDispatch(env),
        onCancel: (runId, reason) => !stopped && h.onCancel(runId, reason),
        ...(h.onUpgrade && { onUpgrade: (order) => !stopped && h.onUpgrade?.(order) }),
      });
      reached();
    } catch (err) {
      failed('polling the inbox', err);
    }
    if (heartbeatsOn && polls % every === 0 && !stopped) {
      try {
        await heartbeat();
        reached();
        handlers?.onContact?.();
      } catch (err) {
        failed('writing the heartbeat', err);
      }
    }
    // Costs nothing until a renewal is due, then one GET per poll while the CP's answer is awaited.
    if (renewer && !stopped && up === true) await renewer.poll();
    polls++;
    if (pendingExits.length > 0) writes = writes.then(flushExits);
    if (pendingReports.length > 0) writes = writes.then(flushReports);
    seen.prune(now());
    seenUpgrades.prune(now());
  };

  const schedule = (delay: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      polling = pollOnce().catch((err: unknown) => log.error({ err }, 'bucket poll failed')).finally(() => schedule(pollMs));
    }, delay);
  };

  return {
    name: 'jobs',
    pollMs,
    intervalMs: pollMs * every,
    start(h) {
      handlers = h;
      stopped = false;
      schedule(0);
    },
    send(records) {
      if (stopped || records.length === 0) return;
      batch.push(...records);
      if (batch.length >= MAX_RECORDS_PER_OBJECT) flush();
      else batchTimer ??= setTimeout(flush, opts.batchMs ?? DEFAULT_BATCH_MS);
    },
    // The run's own events tell the CP whether it started; nothing is written for the dispatch itself.
    ackDispatch: () => undefined,
    reportUpgrade(report) {
      pendingReports.push(report);
      if (pendingReports.length > MAX_PENDING_REPORTS) pendingReports.shift();
      // Not started yet (or stopped): the first poll writes it.
      if (stopped) return;
      // After the events offered before it: the CP reads a host's outbox in the order it was written.
      flush();
      writes = writes.then(flushReports).catch((err: unknown) => log.error({ err }, 'writing an upgrade report to the bucket failed'));
    },
    isUp: () => up === true,
    setKey,
    setHeartbeats(on) {
      heartbeatsOn = on;
    },
    refusals: () => reader.refusals(),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // What was offered is written before the transport stops (the last runs' ends, typically; an upgrade's
      // `restarting`, which the daimon reports just before it stops).
      flush();
      await polling;
      if (pendingReports.length > 0) writes = writes.then(flushReports);
      await writes;
      if (opts.closeBucket) opts.bucket.close();
    },
  };
}
