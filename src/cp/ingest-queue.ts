import type { Logger } from 'pino';
import type { EventRecord } from '../protocol/tunnel.js';
import type { EventIngest, IngestAck } from '../transport/types.js';
import type { Store } from './store/store.js';
import type { IngestResult } from './store/ingest.js';
import { createBackoff, isStoreFailure } from './store/store-health.js';
import { assembleResults, mergePlans, planIngest, type PlannedBatch } from './store/ingest-plan.js';
import type { IngestThread } from './ingest-thread.js';

/** A write that rides in an ingest commit: made inside its transaction, then told how the commit went. */
export interface AlongsideWrite {
  write(): void;
  committed(): void;
  rolledBack(): void;
}

interface Pending {
  hostname: string;
  records: readonly EventRecord[];
  /** Planned on arrival when the SQL runs on the ingest thread (ingest-plan.ts), so planning overlaps its writes. */
  planned?: PlannedBatch;
  resolve: (ack: IngestAck) => void;
  reject: (err: Error) => void;
}

/** Bounds of the queue; the defaults suit the tunnel (frames of ≤ 1,000 records). */
export interface IngestQueueLimits {
  /** Records per transaction: a commit is cut after the batch that reaches this, then the loop gets a turn. */
  maxRecordsPerCommit: number;
  /** Queued records at which the queue reports itself deep (tunnels should stop reading). */
  highWater: number;
  /** Queued records under which a deep queue reports itself drained again. */
  lowWater: number;
}

/** Default bounds: a commit of ~4,000 findings blocks the loop for tens of ms, not seconds. */
export const DEFAULT_INGEST_LIMITS: IngestQueueLimits = { maxRecordsPerCommit: 4000, highWater: 20_000, lowWater: 8000 };

/** The group-commit queue: EventIngest plus its depth, for back-pressure. */
export interface IngestQueue extends EventIngest {
  /** Commits everything queued now, in bounded transactions (shutdown, tests); stops early while the store refuses writes. */
  flush(): void;
  /** Records accepted and not yet committed. */
  depth(): number;
  /** True from when the depth reaches the high-water mark until it falls under the low-water mark. */
  isDeep(): boolean;
  /** Calls `fn` each time a deep queue drains under the low-water mark. */
  onDrained(fn: () => void): void;
  /** `flush()`, then stops the ingest thread if there is one; later commits are made on the caller's connection. */
  stop(): Promise<void>;
}

/**
 * Group commit in front of the store: records arriving while the previous commit ran, from any number of hosts,
 * are stored in one transaction (one fsync), then acknowledged. A transaction takes at most
 * `maxRecordsPerCommit` records; the rest waits for the next turn, so heartbeats, acks and the API keep flowing
 * under load. `onCommitted` runs after the commit, so the live stream never announces something not durable.
 * When the store cannot be written (disk full, I/O error, database replaced) nothing is acknowledged: the records
 * stay queued, in order, and the commit is retried with backoff; the queue stays deep, so tunnels stop being read and
 * daimons keep their events spooled until the store takes writes again.
 */
export function createIngestQueue(deps: {
  store: Store;
  now: () => number;
  log: Logger;
  onCommitted: (r: IngestResult, hostname: string) => void;
  /** Other writes to make in each commit's transaction, before the records (the CP's pending host changes). */
  alongside?: () => AlongsideWrite | undefined;
  limits?: Partial<IngestQueueLimits>;
  /** Told how long each successful group commit took, in seconds (`/metrics`). */
  onCommitTimed?: (seconds: number) => void;
  /**
   * Where the SQL runs (SQLite only): a thread of its own, one batch at a time, while this thread keeps reading and
   * validating frames. Without it every commit runs here, synchronously.
   */
  thread?: IngestThread;
}): IngestQueue {
  const limits = { ...DEFAULT_INGEST_LIMITS, ...deps.limits };
  let queue: Pending[] = [];
  let queued = 0;
  let deep = false;
  let scheduled = false;
  let retryTimer: NodeJS.Timeout | undefined;
  // A batch posted to the ingest thread and not answered yet: the next one waits for it (one in flight).
  let posted = false;
  let thread = deps.thread;
  const backoff = createBackoff(50, 10_000);
  const health = deps.store.health;
  const drainedListeners: (() => void)[] = [];

  const commit = (items: Pending[]): IngestResult[] => {
    // A stat per commit: records acknowledged into a database file that was deleted would be lost for good.
    health.assertWritable();
    const other = deps.alongside?.();
    // Nothing to write alongside (the usual case): the ingest's own transaction, no savepoint around it.
    if (!other) return deps.store.ingest.ingestBatch(items, deps.now());
    let results: IngestResult[];
    try {
      results = deps.store.transaction(() => {
        other.write();
        return deps.store.ingest.ingestBatch(items, deps.now());
      });
    } catch (err) {
      other.rolledBack();
      throw err;
    }
    other.committed();
    return results;
  };

  const settle = (item: Pending, result: IngestResult): void => {
    if (result.foreign > 0) deps.log.warn({ host: item.hostname, count: result.foreign }, 'refused events for runs of another host');
    if (result.unknown > 0) {
      const runIds = result.refused.filter((r) => r.reason === 'unknown').map((r) => r.run_id);
      deps.log.warn({ host: item.hostname, count: result.unknown, run_ids: runIds.slice(0, 20) }, 'refused events for runs the CP never dispatched');
    }
    for (const bad of result.invalidFindings) deps.log.warn({ host: item.hostname, run_id: bad.key.run_id, seq: bad.key.seq, reason: bad.reason }, 'invalid finding kept in transcript only');
    try {
      deps.onCommitted(result, item.hostname);
    } catch (err) {
      deps.log.error({ err }, 'publishing ingested events failed');
    }
    item.resolve({ acked: result.acked, refused: result.refused });
  };

  /** Takes whole items from the head of the queue up to the per-commit cap (at least one). */
  const take = (): Pending[] => {
    let n = 0;
    let count = 0;
    while (count < queue.length && (count === 0 || n + (queue[count] as Pending).records.length <= limits.maxRecordsPerCommit)) {
      n += (queue[count] as Pending).records.length;
      count++;
    }
    const items = queue.slice(0, count);
    queue = queue.slice(count);
    queued -= n;
    return items;
  };

  const schedule = (): void => {
    if (scheduled || retryTimer || posted) return;
    scheduled = true;
    // setImmediate runs after the I/O phase: between two commits, sockets are read and timers fire.
    setImmediate(() => {
      scheduled = false;
      if (thread) postNext();
      else commitNext();
      if (queue.length > 0) schedule();
    });
  };

  /** Puts items back at the head of the queue, in order, and retries after a backoff. */
  const requeue = (items: Pending[], err: unknown): void => {
    queue = [...items, ...queue];
    queued += items.reduce((n, item) => n + item.records.length, 0);
    health.failed(err, 'ingest');
    if (!retryTimer) {
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        schedule();
      }, backoff.next());
      retryTimer.unref();
    }
  };

  const reportDrained = (): void => {
    if (deep && queued < limits.lowWater) {
      deep = false;
      for (const fn of drainedListeners) fn();
    }
  };

  /**
   * One bad batch must not sink the others: retries one by one (on this thread's connection), and leaves the failing
   * one unacknowledged; false when the store refused a write (the rest is requeued).
   */
  const oneByOne = (items: Pending[], err: unknown): boolean => {
    deps.log.error({ err }, 'group ingest failed; retrying batches one by one');
    for (const [i, item] of items.entries()) {
      try {
        settle(item, commit([item])[0] as IngestResult);
      } catch (itemErr) {
        if (isStoreFailure(itemErr)) {
          requeue(items.slice(i), itemErr);
          return false;
        }
        deps.log.error({ err: itemErr, host: item.hostname }, 'ingest failed; records stay unacknowledged');
        item.reject(itemErr as Error);
      }
    }
    return true;
  };

  /** Commits the next bounded group, settles it, and reports a drained queue; false when the store refused it. */
  const commitNext = (): boolean => {
    const items = take();
    if (items.length > 0) {
      try {
        const started = performance.now();
        const results = commit(items);
        deps.onCommitTimed?.((performance.now() - started) / 1000);
        backoff.reset();
        health.succeeded('ingest');
        items.forEach((item, i) => settle(item, results[i] as IngestResult));
      } catch (err) {
        if (isStoreFailure(err)) {
          requeue(items, err);
          return false;
        }
        if (!oneByOne(items, err)) return false;
      }
    }
    reportDrained();
    return true;
  };

  /** Plans an item ahead of its post; a failure is left for the post, where it is handled with the batch's. */
  const planItem = (item: Pending): void => {
    try {
      item.planned ??= planIngest([item]);
    } catch {
      // planned again when posted
    }
  };
  /**
   * Plans the items of the next commit (one commit's worth from the head), not the whole backlog: a plan holds
   * ~1.2 KB per record, and a deep queue holds tens of thousands of records.
   */
  const planAhead = (): void => {
    let n = 0;
    for (const item of queue) {
      if (n >= limits.maxRecordsPerCommit) break;
      planItem(item);
      n += item.records.length;
    }
  };

  /**
   * Posts the next bounded group to the ingest thread: planned here (validation, fingerprints, the stored bodies),
   * written there in one transaction, settled here when its commit is answered. Host announcements pending
   * (`alongside`) are written first, in their own transaction on this thread's connection: the thread is idle then
   * (one batch in flight), so nothing waits for the write lock, and a host is still announced before its findings.
   */
  const postNext = (): void => {
    const items = take();
    if (items.length === 0) return reportDrained();
    const other = deps.alongside?.();
    let planned: ReturnType<typeof planIngest>;
    try {
      health.assertWritable();
      if (other) {
        try {
          deps.store.transaction(() => other.write());
        } catch (err) {
          other.rolledBack();
          throw err;
        }
        other.committed();
      }
      planned = mergePlans(items.map((item) => (item.planned ??= planIngest([item]))));
    } catch (err) {
      if (isStoreFailure(err)) requeue(items, err);
      else oneByOne(items, err);
      return reportDrained();
    }
    const now = deps.now();
    const started = performance.now();
    posted = true;
    planAhead();
    (thread as IngestThread).write(planned.plan, now, (err, outcome) => {
      posted = false;
      if (err || !outcome) {
        if (isStoreFailure(err)) requeue(items, err);
        else oneByOne(items, err);
      } else {
        deps.onCommitTimed?.((performance.now() - started) / 1000);
        backoff.reset();
        health.succeeded('ingest');
        const results = assembleResults(items, planned.plan, planned.local, outcome, now);
        items.forEach((item, i) => settle(item, results[i] as IngestResult));
      }
      reportDrained();
      if (queue.length > 0) schedule();
    });
  };

  const flush = (): void => {
    // The batch in flight first (its records are older than the queue's), then the rest here, synchronously.
    thread?.drainSync();
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = undefined;
    while (queue.length > 0 && commitNext());
  };

  return {
    accept(hostname, records) {
      return new Promise((resolve, reject) => {
        const item: Pending = { hostname, records, resolve, reject };
        queue.push(item);
        // The next commit's frames are planned as they arrive, while the thread writes the commit before.
        if (thread && queued < limits.maxRecordsPerCommit) planItem(item);
        queued += records.length;
        if (queued >= limits.highWater) deep = true;
        schedule();
      });
    },
    flush,
    async stop() {
      flush();
      const t = thread;
      thread = undefined;
      await t?.close();
    },
    depth: () => queued,
    isDeep: () => deep,
    onDrained(fn) {
      drainedListeners.push(fn);
    },
  };
}
