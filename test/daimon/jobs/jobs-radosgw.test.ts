import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJobsTransport } from '../../../daimon/jobs/jobs-transport.js';
import type { JobsTransport, JobsTransportOptions } from '../../../daimon/jobs/jobs-transport.js';
import type { Bucket } from '../../../src/transport/bucket/bucket.js';
import { createS3Bucket } from '../../../src/transport/bucket/s3-bucket.js';
import { createTestBucket } from '../../support/s3.js';
import type { TestBucket } from '../../support/s3.js';
import { captureLogger, tempDir, waitFor } from '../core/helpers.js';
import { envelope, jobBytes, putJob, readOutbox, record, recorder, testCp, testHost } from './helpers.js';
import type { TestCp } from './helpers.js';

// Against the run's radosgw: the claim race depends on a real conditional create, paging on a real listing.
let s3: TestBucket;
let cp: TestCp;
const started: JobsTransport[] = [];

beforeAll(async () => {
  s3 = await createTestBucket('daimon-jobs', { prefix: 'okesu' });
  cp = await testCp('okesu');
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((t) => t.stop()));
});
afterAll(() => {
  s3.bucket.close();
});

function transport(bucket: Bucket, identity: JobsTransportOptions['identity'], over: Partial<JobsTransportOptions> = {}): JobsTransport {
  const t = createJobsTransport(
    { identity, bucket, prefix: 'okesu', stateDir: tempDir('rgw'), version: '1.0.0', labels: {}, status: () => ({ running: [], spoolDepth: 0 }), pollMs: 50, ...over },
    { log: captureLogger().log },
  );
  started.push(t);
  return t;
}

describe('jobs transport (radosgw)', () => {
  it('two pollers with one identity race for a job: exactly one dispatch, every time', async () => {
    const claims0 = s3.bucket.requestCounts().putIfAbsent ?? 0;
    for (let round = 0; round < 4; round++) {
      const host = await testHost(cp, `race-${round}`);
      const env = envelope();
      await putJob(s3.bucket, cp, host.hostname, env);
      const a = recorder();
      const b = recorder();
      const ta = transport(s3.bucket, host);
      const tb = transport(s3.bucket, host);
      // Started together: both list the job, both read it, both try to claim it.
      ta.start(a);
      tb.start(b);
      await waitFor(() => a.dispatched.length + b.dispatched.length >= 1, 10_000, 'a dispatch');
      // A few more polls of each, in which nothing more may happen.
      const lists = s3.bucket.requestCounts().list ?? 0;
      await waitFor(() => (s3.bucket.requestCounts().list ?? 0) >= lists + 6, 10_000, 'more polls');
      expect(a.dispatched.length + b.dispatched.length).toBe(1);
      await Promise.all(started.splice(0).map((t) => t.stop()));
    }
    // The race was real: in some round both pollers tried the conditional create (one got 'exists').
    expect((s3.bucket.requestCounts().putIfAbsent ?? 0) - claims0).toBeGreaterThan(4);
  });

  it('pages through a large inbox and takes the one unclaimed job in it', async () => {
    const host = await testHost(cp, 'paged-host');
    const claimed = Array.from({ length: 12 }, () => envelope());
    for (const env of claimed) {
      await putJob(s3.bucket, cp, host.hostname, env);
      await s3.bucket.put(cp.layout.claim(host.hostname, env.run_id), 'claimed elsewhere');
    }
    const fresh = envelope();
    await s3.bucket.put(cp.layout.job(host.hostname, fresh.run_id), jobBytes(cp, host.hostname, fresh));
    const r = recorder();
    const t = transport(s3.bucket, host, { pageKeys: 5 });
    const lists = s3.bucket.requestCounts().list ?? 0;
    t.start(r);
    await waitFor(() => r.dispatched.length === 1, 10_000, 'the dispatch');
    expect(r.dispatched[0]?.run_id).toBe(fresh.run_id);
    // 25 keys at 5 a page: at least 5 LISTs for the first pass.
    expect((s3.bucket.requestCounts().list ?? 0) - lists).toBeGreaterThanOrEqual(5);
    const gets = s3.bucket.requestCounts().get ?? 0;
    const now = s3.bucket.requestCounts().list ?? 0;
    await waitFor(() => (s3.bucket.requestCounts().list ?? 0) >= now + 12, 10_000, 'two more passes');
    expect(s3.bucket.requestCounts().get ?? 0).toBe(gets);
    expect(r.dispatched).toHaveLength(1);
  });

  it('writes events the CP can verify and an exit after run_end', async () => {
    const host = await testHost(cp, 'events-host');
    const r = recorder();
    const t = transport(s3.bucket, host);
    t.start(r);
    await waitFor(() => t.isUp(), 10_000, 'up');
    const runId = envelope().run_id;
    t.send([record(runId, 1), record(runId, 2), record(runId, 3, { type: 'run_end', status: 'succeeded' })]);
    await waitFor(() => r.acks.length === 3, 10_000, 'acks');
    const out = await readOutbox(s3.bucket, cp, host.hostname, host.keyPem);
    expect(out.records.map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(out.exits).toEqual([{ run_id: runId, status: 'succeeded', last_seq: 3 }]);
  });

  it('costs one LIST and one heartbeat PUT per idle poll, counted by the S3 client', async () => {
    const host = await testHost(cp, 'idle-host');
    const bucket = createS3Bucket(s3.location);
    try {
      const t = transport(bucket, host, { pollMs: 30 });
      t.start(recorder());
      await waitFor(() => (bucket.requestCounts().list ?? 0) >= 2, 10_000, 'the first polls');
      await t.stop();
      const before = bucket.requestCounts();
      expect(before.get ?? 0).toBe(0);
      const again = transport(bucket, host, { pollMs: 30 });
      again.start(recorder());
      await waitFor(() => (bucket.requestCounts().list ?? 0) >= (before.list ?? 0) + 5, 10_000, 'five idle polls');
      await again.stop();
      const after = bucket.requestCounts();
      const polls = (after.list ?? 0) - (before.list ?? 0);
      expect(Object.keys(after).sort()).toEqual(['list', 'put']);
      // Each poll's heartbeat follows its LIST; the poll in flight when stop() came skips its heartbeat.
      expect((after.put ?? 0) - (before.put ?? 0)).toBeGreaterThanOrEqual(polls - 1);
      expect((after.put ?? 0) - (before.put ?? 0)).toBeLessThanOrEqual(polls);
    } finally {
      bucket.close();
    }
  });

  it('acknowledges nothing when the store is unreachable, and says it is down', async () => {
    const host = await testHost(cp, 'down-host');
    const stopped = createS3Bucket({ ...s3.location, endpoint: 'http://127.0.0.1:9' }, { requestTimeoutMs: 2000 });
    try {
      const r = recorder();
      const t = transport(stopped, host);
      t.start(r);
      await waitFor(() => r.downs.length === 1, 20_000, 'down');
      expect(r.downs[0]).toMatch(/polling the inbox/);
      t.send([record(envelope().run_id, 1)]);
      expect(t.isUp()).toBe(false);
      await t.stop();
      expect(r.acks).toEqual([]);
      expect(r.ups).toBe(0);
    } finally {
      stopped.close();
    }
  });
});
