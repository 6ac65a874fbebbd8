import { afterEach, describe, expect, it } from 'vitest';
import { asTicks, findingRecord, runId, waitFor } from '../cp-harness.js';
import { hostWriter, keysUnder, startJobsCp, type JobsCp } from './jobs-helpers.js';

describe('bucket scanner: events', () => {
  let env: JobsCp | undefined;
  afterEach(async () => {
    await env?.cp.close();
    env = undefined;
  });

  it('ingests a signed events object once and deletes it; the same records in a second object are stored once', async () => {
    env = await startJobsCp();
    const host = await env.cp.registerHost('web-01');
    const w = hostWriter(host, env.layout);
    const run = runId();
    const records = asTicks([findingRecord(run, 1), findingRecord(run, 2)]);
    const key = w.eventsKey();
    await env.bucket.put(key, w.events(key, records));
    const copy = w.eventsKey().replace(/-[0-9a-f]{16}\.events$/, '-00000000deadbeef.events');
    await env.bucket.put(copy, w.events(copy, records));
    await env.scan();
    const view = await env.cp.admin.getRun(run);
    expect(view.events).toBe(3);
    expect(view.findings).toBe(2);
    const findings = await env.cp.admin.findings({ host: 'web-01' });
    expect(findings.findings.filter((f) => f.run_id === run)).toHaveLength(2);
    expect(await keysUnder(env.bucket, env.layout.outbox())).toEqual([]);
    await env.scan();
    expect((await env.cp.admin.getRun(run)).events).toBe(3);
    expect(env.cp.cp.bucketScanner()?.stats()).toMatchObject({ eventObjects: 2, records: 6, quarantined: { unverified: 0, bad_key: 0 } });
  });

  it('a CP restarted between the ingest and the delete stores nothing twice', async () => {
    env = await startJobsCp();
    const host = await env.cp.registerHost('web-02');
    const w = hostWriter(host, env.layout);
    const run = runId();
    const key = w.eventsKey();
    const bytes = w.events(key, asTicks([findingRecord(run, 1)]));
    await env.bucket.put(key, bytes);
    await env.scan();
    expect((await env.cp.admin.getRun(run)).events).toBe(2);
    // As if the CP died after the commit and before its delete: the object is back, and a new CP reads it.
    await env.bucket.put(key, bytes);
    await env.cp.restart();
    await env.scan();
    expect((await env.cp.admin.getRun(run)).events).toBe(2);
    expect((await env.cp.admin.findings({ host: 'web-02' })).findings).toHaveLength(1);
    expect(await keysUnder(env.bucket, env.layout.outbox())).toEqual([]);
  });

  it('the scanner\'s own timer scans (start, a pass, stop)', async () => {
    env = await startJobsCp({ options: { bucketScanMs: 50 } });
    const host = await env.cp.registerHost('web-03');
    const w = hostWriter(host, env.layout);
    const run = runId();
    const key = w.eventsKey();
    await env.bucket.put(key, w.events(key, asTicks([findingRecord(run, 1)])));
    await waitFor(async () => (await env?.cp.admin.getRun(run).catch(() => undefined))?.events === 2, 5000, 'the timer to ingest');
  });
});
