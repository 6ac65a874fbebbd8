import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import type { Bucket } from '../../../src/transport/bucket/bucket.js';
import { OkesuError } from '../../../src/errors.js';
import { asTicks, findingRecord, runId, waitFor } from '../cp-harness.js';
import { hostWriter, startJobsCp, type JobsCp } from './jobs-helpers.js';

/** A memory bucket whose requests fail while `down` is set, and that counts LISTs in flight at once. */
function flakyBucket() {
  const inner = createMemoryBucket();
  const state = { down: false, listing: 0, maxListing: 0 };
  const guard = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    if (state.down) throw new OkesuError('OKS_ERR_BUCKET', 'list: connect ECONNREFUSED');
    return fn(...args);
  };
  const bucket: Bucket = {
    ...inner,
    put: guard(inner.put), get: guard(inner.get), delete: guard(inner.delete), deleteMany: guard(inner.deleteMany), copy: guard(inner.copy),
    list: guard(async (prefix, opts) => {
      state.listing++;
      state.maxListing = Math.max(state.maxListing, state.listing);
      await new Promise((resolve) => setTimeout(resolve, 5));
      state.listing--;
      return inner.list(prefix, opts);
    }),
  };
  return { bucket, inner, state };
}

describe('bucket scanner: outages', () => {
  let env: JobsCp | undefined;
  afterEach(async () => {
    await env?.cp.close();
    env = undefined;
  });

  it('logs an outage once, retries with backoff, and ingests what waited once the bucket answers again', async () => {
    const lines: { msg: string; level: number }[] = [];
    const log = pino({ level: 'debug' }, new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { msg: string; level: number });
        done();
      },
    }));
    const flaky = flakyBucket();
    env = await startJobsCp({ bucket: flaky.bucket, log, options: { bucketScanMs: 20 } });
    const host = await env.cp.registerHost('web-01');
    const w = hostWriter(host, env.layout);
    flaky.state.down = true;
    const scanner = env.cp.cp.bucketScanner();
    await waitFor(() => (scanner?.stats().failedPasses ?? 0) >= 4, 10_000, 'failed passes');
    expect(lines.filter((l) => l.msg === 'bucket scan failed; retrying with backoff')).toHaveLength(1);
    await expect(env.scan()).rejects.toThrow(/ECONNREFUSED/);
    const run = runId();
    const key = w.eventsKey();
    await flaky.inner.put(key, w.events(key, asTicks([findingRecord(run, 1)])));
    flaky.state.down = false;
    await waitFor(async () => (await env?.cp.admin.getRun(run).catch(() => undefined))?.events === 2, 10_000, 'the events after the outage');
    await waitFor(() => lines.some((l) => l.msg === 'the bucket answers again'), 5000, 'the recovery log line');
  });

  it('never runs a pass concurrently with itself', async () => {
    const flaky = flakyBucket();
    env = await startJobsCp({ bucket: flaky.bucket, options: { bucketScanMs: 1 } });
    await Promise.all([env.scan(), env.scan(), env.scan(), env.scan()]);
    expect(flaky.state.maxListing).toBe(1);
    expect(env.cp.cp.bucketScanner()?.stats().passes).toBeGreaterThanOrEqual(4);
  });
});
