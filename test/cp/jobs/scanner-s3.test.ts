import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestBucket, type TestBucket } from '../../support/s3.js';
import { findingRecord, runId, tickStart, waitFor } from '../cp-harness.js';
import { hostWriter, keysUnder, quarantineNotes, startJobsCp, type JobsCp } from './jobs-helpers.js';
import { bucketLayout } from '../../../src/protocol/bucket-layout.js';
import { startCp, type CpHarness } from '../cp-harness.js';

/** Runs `fn` over `items`, `limit` at a time. */
async function inTurns<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

// Against radosgw: listing pages (more objects than one LIST returns) and a CP restarted between its ingest and its
// delete, with the real store's semantics.
describe('bucket scanner on radosgw', () => {
  let env: JobsCp | undefined;
  let tb: TestBucket | undefined;
  afterEach(async () => {
    await env?.cp.close();
    tb?.bucket.close();
    env = undefined;
    tb = undefined;
  });

  const start = async (): Promise<JobsCp> => {
    tb = await createTestBucket('cp-scan');
    // Small LIST pages: paging is exercised with a few hundred objects, not thousands.
    return startJobsCp({ bucket: tb.bucket, options: { bucket: tb.location, bucketListPageSize: 50 } });
  };

  // The run is a tick: its run_start is in the first object, so objects handed to the ingest out of key order would
  // have their records refused as of an unknown run.
  it('consumes more objects than one listing page, each once and in order, and deletes them all', { timeout: 120_000 }, async () => {
    env = await start();
    const e = env;
    const host = await e.cp.registerHost('busy');
    const w = hostWriter(host, e.layout);
    const run = runId();
    const n = 220;
    const seqs = Array.from({ length: n }, (_, i) => i + 1);
    const first = w.eventsKey();
    await e.bucket.put(first, w.events(first, [tickStart(run)]));
    await inTurns(seqs, 32, async (seq) => {
      const key = e.layout.events('busy', Date.now(), randomBytes(8).toString('hex'));
      await e.bucket.put(key, w.events(key, [findingRecord(run, seq, { resource: `file:/tmp/${seq}` })]));
    });
    await e.scan();
    expect((await e.cp.admin.getRun(run)).events).toBe(n + 1);
    expect(await keysUnder(e.bucket, e.layout.outbox())).toEqual([]);
    expect(e.cp.cp.bucketScanner()?.stats()).toMatchObject({ eventObjects: n + 1, records: n + 1 });
    // 221 objects at 50 a page: five LISTs of out/, then one each of hb/ and reg/.
    expect(e.bucket.requestCounts()['list']).toBeGreaterThanOrEqual(7);
    expect(await quarantineNotes(e.bucket, e.layout)).toEqual([]);
  });

  it('a CP restarted between the ingest and the delete stores nothing twice', async () => {
    env = await start();
    const host = await env.cp.registerHost('web-01');
    const w = hostWriter(host, env.layout);
    const run = runId();
    const key = w.eventsKey();
    const bytes = w.events(key, [tickStart(run), findingRecord(run, 1)]);
    await env.bucket.put(key, bytes);
    await env.scan();
    await env.bucket.put(key, bytes);
    await env.cp.restart();
    await env.scan();
    expect((await env.cp.admin.getRun(run)).events).toBe(2);
    expect((await env.cp.admin.findings({ host: 'web-01' })).findings).toHaveLength(1);
    expect(await keysUnder(env.bucket, env.layout.outbox())).toEqual([]);
  });

  it('a CP given only a bucket location opens it itself and hears a jobs host through it', async () => {
    tb = await createTestBucket('cp-open');
    let cp: CpHarness | undefined;
    try {
      cp = await startCp({ options: { bucket: tb.location, bucketScanMs: 50 } });
      const host = await cp.registerHost('batch-01');
      const w = hostWriter(host, bucketLayout(tb.location.prefix));
      await tb.bucket.put(bucketLayout(tb.location.prefix).heartbeat('batch-01'), w.heartbeat({ poll_ms: 30_000, interval_ms: 30_000 }));
      const c = cp;
      await waitFor(async () => (await c.admin.hosts()).find((h) => h.hostname === 'batch-01')?.path === 'jobs', 10_000, 'the host heard through the bucket');
      expect((await cp.admin.hosts())[0]).toMatchObject({ state: 'online', transport: 'jobs', poll_ms: 30_000 });
    } finally {
      await cp?.close();
    }
  });
});
