import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestBucket, type TestBucket } from '../../support/s3.js';
import { findingRecord, runId, tickStart } from '../cp-harness.js';
import { hostWriter, keysUnder, quarantineNotes, startJobsCp, type JobsCp } from './jobs-helpers.js';
import { bucketLayout } from '../../../src/protocol/bucket-layout.js';

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
    const started = await startJobsCp({ bucket: tb.bucket, options: { bucket: tb.location } });
    // The helper's layout uses its own prefix; the test bucket's is the location's.
    return { ...started, layout: bucketLayout(tb.location.prefix) };
  };

  // The run is a tick: its run_start is in the first object, so objects handed to the ingest out of key order would
  // have their records refused as of an unknown run.
  it('consumes more objects than one listing page, each once and in order, and deletes them all', async () => {
    env = await start();
    const e = env;
    const host = await e.cp.registerHost('busy');
    const w = hostWriter(host, e.layout);
    const run = runId();
    const n = 1100;
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
});
