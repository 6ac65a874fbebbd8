import type { Logger } from 'pino';
import type { Bucket } from '../../transport/bucket/bucket.js';
import type { BucketLayout } from '../../protocol/bucket-layout.js';

/** Deletes the inbox objects (job, claim, cancel) of runs that ended, in batches, off the ingest path. */
export interface InboxCleanup {
  /** Queues a run's inbox objects for deletion (and any extra keys, e.g. the exit object that announced the end). */
  schedule(host: string, runId: string, extra?: readonly string[]): void;
  /** Queues keys for deletion. */
  scheduleKeys(keys: readonly string[]): void;
  /** Deletes what is queued now; resolves when done (failures are logged, retried on a later flush). */
  flush(): Promise<void>;
  /** Keys waiting to be deleted. */
  pending(): number;
  stop(): Promise<void>;
}

const MAX_ATTEMPTS = 5;
const BATCH = 1000;

/**
 * Batches deletions: run ends arrive one by one (ingest, timeouts, exits) and a DeleteObjects call takes up to 1,000
 * keys. A flush is scheduled on the next loop turn, never awaited by its callers (ingest must not wait on S3); a
 * failed batch is logged and put back for the next flush, up to a few attempts (the objects also expire on their own).
 */
export function createInboxCleanup(deps: { bucket: Bucket; layout: BucketLayout; log: Logger; retryMs?: number }): InboxCleanup {
  const queue = new Map<string, number>();
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const later = (ms: number): void => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, ms);
    timer.unref();
  };

  const flushOnce = async (): Promise<void> => {
    while (queue.size > 0) {
      const batch = [...queue.entries()].slice(0, BATCH);
      for (const [key] of batch) queue.delete(key);
      try {
        await deps.bucket.deleteMany(batch.map(([key]) => key));
      } catch (err) {
        const retry = batch.filter(([, attempts]) => attempts + 1 < MAX_ATTEMPTS);
        for (const [key, attempts] of retry) queue.set(key, attempts + 1);
        deps.log.warn({ err, keys: batch.length, retried: retry.length }, 'deleting ended runs\' bucket objects failed');
        later(deps.retryMs ?? 10_000);
        return;
      }
    }
  };
  const flush = (): Promise<void> => {
    running ??= flushOnce().finally(() => {
      running = undefined;
    });
    return running;
  };
  const add = (keys: readonly string[]): void => {
    for (const key of keys) if (!queue.has(key)) queue.set(key, 0);
    later(0);
  };

  return {
    schedule(host, runId, extra = []) {
      add([deps.layout.job(host, runId), deps.layout.claim(host, runId), deps.layout.cancel(host, runId), ...extra]);
    },
    scheduleKeys: add,
    flush,
    pending: () => queue.size,
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await flush();
      stopped = true;
    },
  };
}
