import type { Logger } from 'pino';
import type { EventRecord, RecordKey } from '../protocol/tunnel.js';
import type { EventIngest } from '../transport/types.js';
import type { Store } from './store/store.js';
import type { IngestResult } from './store/ingest.js';

interface Pending {
  hostname: string;
  records: readonly EventRecord[];
  resolve: (keys: readonly RecordKey[]) => void;
  reject: (err: Error) => void;
}

/**
 * Group commit in front of the store: records arriving in the same turn of the event loop, from any number of
 * hosts, are stored in one transaction (one fsync), then acknowledged. `onCommitted` runs after the commit, so the
 * live stream never announces something that is not durable.
 */
export function createIngestQueue(deps: { store: Store; now: () => number; log: Logger; onCommitted: (r: IngestResult, hostname: string) => void }): EventIngest & { flush(): void } {
  let queue: Pending[] = [];
  let scheduled = false;

  const commit = (items: Pending[]): IngestResult[] => {
    const now = deps.now();
    return deps.store.transaction(() => items.map((i) => deps.store.ingest.ingest(i.hostname, i.records, now)));
  };

  const settle = (item: Pending, result: IngestResult): void => {
    if (result.foreign > 0) deps.log.warn({ host: item.hostname, count: result.foreign }, 'refused events for runs of another host');
    for (const bad of result.invalidFindings) deps.log.warn({ host: item.hostname, run_id: bad.key.run_id, seq: bad.key.seq, reason: bad.reason }, 'invalid finding kept in transcript only');
    try {
      deps.onCommitted(result, item.hostname);
    } catch (err) {
      deps.log.error({ err }, 'publishing ingested events failed');
    }
    item.resolve(result.acked);
  };

  const flush = (): void => {
    scheduled = false;
    const items = queue;
    queue = [];
    if (items.length === 0) return;
    try {
      const results = commit(items);
      items.forEach((item, i) => settle(item, results[i] as IngestResult));
    } catch (err) {
      // One bad batch must not sink the others: retry one by one, and leave the failing one unacknowledged.
      deps.log.error({ err }, 'group ingest failed; retrying batches one by one');
      for (const item of items) {
        try {
          settle(item, (commit([item]) as IngestResult[])[0] as IngestResult);
        } catch (itemErr) {
          deps.log.error({ err: itemErr, host: item.hostname }, 'ingest failed; records stay unacknowledged');
          item.reject(itemErr as Error);
        }
      }
    }
  };

  return {
    accept(hostname, records) {
      return new Promise((resolve, reject) => {
        queue.push({ hostname, records, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    flush,
  };
}
