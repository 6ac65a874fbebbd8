import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/cp/store/store.js';
import { createIngestQueue, type IngestQueue } from '../../src/cp/ingest-queue.js';
import { createIngestThread, ingestThreadFor } from '../../src/cp/ingest-thread.js';
import type { IngestResult } from '../../src/cp/store/ingest.js';
import type { EventRecord } from '../../src/protocol/tunnel.js';
import { findingRecord, record, runId, tickStart } from './cp-harness.js';

const findings = (run: string, from: number, n: number): EventRecord[] => Array.from({ length: n }, (_, i) => findingRecord(run, from + i));

describe('the ingest thread', () => {
  let dir: string | undefined;
  let store: Store | undefined;
  let queue: IngestQueue | undefined;
  let mainIngest: Store['ingest']['ingestBatch'] | undefined;
  afterEach(async () => {
    await queue?.stop();
    store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const open = (): Store => {
    dir = mkdtempSync(join(tmpdir(), 'okesu-ingest-thread-'));
    store = openStore(join(dir, 'cp.db'));
    mainIngest = store.ingest.ingestBatch.bind(store.ingest);
    // Nothing may be written through the main connection's ingest while the thread does the writing.
    store.ingest.ingestBatch = () => {
      throw new Error('ingested on the main connection');
    };
    return store;
  };

  it('is made for a SQLite file only', () => {
    const st = open();
    const thread = ingestThreadFor(st);
    expect(thread).toBeDefined();
    void thread?.close();
    expect(ingestThreadFor(st, { OKESU_INGEST_THREAD: '0' })).toBeUndefined();
    expect(ingestThreadFor({ kind: 'postgres', db: {} })).toBeUndefined();
  });

  it('writes every batch on its own connection, acks only after the commit, and publishes the same results', async () => {
    const st = open();
    const committed: Array<{ host: string; r: IngestResult }> = [];
    queue = createIngestQueue({
      store: st, now: Date.now, log: pino({ level: 'silent' }), thread: createIngestThread(join(dir as string, 'cp.db')),
      limits: { maxRecordsPerCommit: 1000 },
      onCommitted: (r, host) => {
        // The commit is durable when its results are published: the main connection reads it back.
        expect(st.findings.summary({}).total).toBeGreaterThanOrEqual(r.findings.length);
        committed.push({ host, r });
      },
    });
    const runs = [runId(), runId()];
    const batches = Array.from({ length: 6 }, (_, i) => ({ host: `web-0${i % 2}`, records: findings(runs[i % 2] as string, Math.floor(i / 2) * 500, 500) }));
    for (const b of batches.slice(0, 2)) b.records[0] = tickStart(b.records[0]?.run_id as string);
    // A record sent twice, a run of another host and one the CP never heard of: stored once, refused, refused.
    batches.push({ host: 'web-00', records: [findingRecord(runs[0] as string, 3), findingRecord(runs[1] as string, 9999), record(runId(), 1, { type: 'text' })] });
    const acks = await Promise.all(batches.map((b) => queue?.accept(b.host, b.records)));

    expect(acks.map((a) => a?.acked.length)).toEqual([500, 500, 500, 500, 500, 500, 3]);
    expect(acks[6]?.refused.map((r) => r.reason)).toEqual(['foreign', 'unknown']);
    expect(st.findings.summary({}).total).toBe(2998);
    const results = committed.map((c) => c.r);
    expect(results.reduce((n, r) => n + r.stored, 0)).toBe(3000);
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(1);
    expect(results.reduce((n, r) => n + r.started, 0)).toBe(2);
    // Feed cursors as the stream hub publishes them: increasing, one per stored finding, each the stored finding's.
    const cursors = results.flatMap((r) => r.findings.map((f) => f.cursor));
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(new Set(cursors).size).toBe(2998);
    const first = results[0]?.findings[0];
    expect(st.feed.after((first?.cursor as number) - 1, 1)[0]?.payload).toEqual(first?.finding);
  });

  it('settles the commit in flight before the main connection writes: its feed entries are published first, in cursor order', async () => {
    const st = open();
    const published: number[] = [];
    const thread = ingestThreadFor(st);
    queue = createIngestQueue({
      store: st, now: Date.now, log: pino({ level: 'silent' }), thread,
      onCommitted: (r) => published.push(...r.findings.map((f) => f.cursor)),
    });
    const run = runId();
    const ack = queue.accept('web-01', [tickStart(run), ...findings(run, 1, 2000)]);
    await new Promise((resolve) => setImmediate(resolve)); // posted to the thread
    expect(thread?.inFlight()).toBe(1);
    // A write of the main thread (a host announcement, a run's change) while the thread commits.
    const cursor = st.transaction(() => st.feed.append(Date.now(), 'host', { hostname: 'web-01' }));
    published.push(cursor);
    expect(published).toHaveLength(2001);
    expect(published).toEqual([...published].sort((a, b) => a - b));
    expect((await ack).acked).toHaveLength(2001);
  });

  it('flush() waits for the batch in flight, then commits the rest', async () => {
    const st = open();
    queue = createIngestQueue({
      store: st, now: Date.now, log: pino({ level: 'silent' }), thread: createIngestThread(join(dir as string, 'cp.db')),
      limits: { maxRecordsPerCommit: 100 }, onCommitted: () => undefined,
    });
    const run = runId();
    const first = findings(run, 0, 150);
    first[0] = tickStart(run);
    const acks = [queue.accept('web-01', first), queue.accept('web-01', findings(run, 150, 150))];
    await new Promise((resolve) => setImmediate(resolve)); // the first batch is posted
    // The rest goes through the main connection: let it.
    st.ingest.ingestBatch = mainIngest as Store['ingest']['ingestBatch'];
    queue.flush();
    expect(queue.depth()).toBe(0);
    expect((await Promise.all(acks)).flatMap((a) => a.acked)).toHaveLength(300);
    expect(st.findings.summary({}).total).toBe(299);
  });
});
