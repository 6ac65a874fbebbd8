import { createPublicKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJobsTransport } from '../../../daimon/jobs/jobs-transport.js';
import type { JobsTransport, JobsTransportOptions } from '../../../daimon/jobs/jobs-transport.js';
import { createObjectSigner, readObject } from '../../../src/transport/bucket/signed-object.js';
import { heartbeatBodySchema } from '../../../src/protocol/bucket-objects.js';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import type { Bucket } from '../../../src/transport/bucket/bucket.js';
import { captureLogger, tempDir, waitFor } from '../core/helpers.js';
import { envelope, flaky, jobBytes, putCancel, putJob, readOutbox, record, recorder, testCp, testHost } from './helpers.js';
import type { TestCp } from './helpers.js';

// Unit tests over the in-process fake bucket (no conditional-write race or paging here: see jobs-radosgw.test.ts).
let cp: TestCp;
let host: Awaited<ReturnType<typeof testHost>>;
const started: JobsTransport[] = [];

beforeAll(async () => {
  cp = await testCp();
  host = await testHost(cp, 'jobs-host');
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((t) => t.stop()));
});

function transport(bucket: Bucket, over: Partial<JobsTransportOptions> = {}, logs = captureLogger()): JobsTransport {
  const t = createJobsTransport(
    {
      identity: host, bucket, prefix: 'okesu', stateDir: tempDir('jobs'), version: '1.0.0', labels: { env: 'test' },
      status: () => ({ running: [], spoolDepth: 0 }), pollMs: 30, batchMs: 5, ...over,
    },
    { log: logs.log },
  );
  started.push(t);
  return t;
}

describe('jobs transport (memory bucket)', () => {
  it('claims a signed job once, remembers it on disk, and costs one LIST plus the heartbeat per idle poll', async () => {
    const bucket = createMemoryBucket();
    const state = tempDir('seen');
    const env = envelope();
    await putJob(bucket, cp, 'jobs-host', env);
    const t = transport(bucket, { stateDir: state, pollMs: 40 });
    const r = recorder();
    t.start(r);
    await waitFor(() => r.dispatched.length === 1, 5000, 'the dispatch');
    expect(r.dispatched[0]).toEqual(env);
    expect(r.ups).toBe(1);
    expect(bucket.objects.has(cp.layout.claim('jobs-host', env.run_id))).toBe(true);
    const seen = JSON.parse(readFileSync(join(state, 'jobs', 'seen.json'), 'utf8')) as { runs: Record<string, number> };
    expect(Object.keys(seen.runs)).toEqual([env.run_id]);
    expect(statSync(join(state, 'jobs', 'seen.json')).mode & 0o777).toBe(0o600);
    // The heartbeat as the CP reads it: signed by the host, its body per the schema.
    const hb = readObject(bucket.objects.get(cp.layout.heartbeat('jobs-host'))?.body as Buffer, {
      key: 'hb/jobs-host', kind: 'heartbeat', to: 'cp', now: Date.now(), from: (p) => p === 'host:jobs-host', keysOf: () => [createPublicKey(host.keyPem)],
    });
    expect(hb.ok).toBe(true);
    if (hb.ok) {
      expect(heartbeatBodySchema.parse(hb.object.lines[0])).toMatchObject({ mode: 'jobs', poll_ms: 40, interval_ms: 40, version: '1.0.0', labels: { env: 'test' } });
      expect(hb.object.header.expires_at - hb.object.header.issued_at).toBe(12 * 40);
    }

    // Idle now: count the requests of a few polls.
    const before = bucket.requestCounts();
    const lists = before.list ?? 0;
    await waitFor(() => (bucket.requestCounts().list ?? 0) >= lists + 3, 5000, 'three more polls');
    await t.stop();
    const after = bucket.requestCounts();
    const polls = (after.list ?? 0) - lists;
    expect(after.get ?? 0).toBe(before.get ?? 0);
    expect(after.putIfAbsent ?? 0).toBe(before.putIfAbsent ?? 0);
    // One heartbeat PUT per poll (heartbeatEvery 1): the poll in flight at stop may have listed without its PUT yet.
    expect((after.put ?? 0) - (before.put ?? 0)).toBeGreaterThanOrEqual(polls - 1);
    expect((after.put ?? 0) - (before.put ?? 0)).toBeLessThanOrEqual(polls);
    expect(r.dispatched).toHaveLength(1);
  });

  it('writes a heartbeat every N polls when asked (each one a contact for health.json), and none while turned off', async () => {
    const bucket = createMemoryBucket();
    const t = transport(bucket, { heartbeatEvery: 3, pollMs: 20 });
    const r = recorder();
    t.start(r);
    await waitFor(() => (bucket.requestCounts().list ?? 0) >= 7, 5000, 'seven polls');
    t.setHeartbeats(false);
    // Polls 0, 3, 6, … write one; the poll in flight may or may not have written its own yet.
    const lists = bucket.requestCounts().list ?? 0;
    const puts = bucket.requestCounts().put ?? 0;
    expect(puts).toBeGreaterThanOrEqual(Math.ceil(lists / 3) - 1);
    expect(puts).toBeLessThanOrEqual(Math.ceil(lists / 3));
    await waitFor(() => (bucket.requestCounts().list ?? 0) >= lists + 4, 5000, 'four more polls');
    expect(bucket.requestCounts().put ?? 0).toBeLessThanOrEqual(puts + 1);
    const quiet = bucket.requestCounts().put ?? 0;
    const later = bucket.requestCounts().list ?? 0;
    await waitFor(() => (bucket.requestCounts().list ?? 0) >= later + 4, 5000, 'four more polls');
    expect(bucket.requestCounts().put ?? 0).toBe(quiet);
    expect(r.contacts).toBe(quiet);
    expect(t.intervalMs).toBe(60);
  });

  it('acts on none of: a tampered job, one signed by another key, one copied from another host, an expired one, a replay', async () => {
    const bucket = createMemoryBucket();
    const state = tempDir('hostile');
    // A replay: a job this host already ran, claim since cleaned by the CP, put back.
    const old = envelope();
    await putJob(bucket, cp, 'jobs-host', old);
    const first = transport(bucket, { stateDir: state });
    const r1 = recorder();
    first.start(r1);
    await waitFor(() => r1.dispatched.length === 1, 5000, 'the first run');
    await first.stop();
    await bucket.delete(cp.layout.claim('jobs-host', old.run_id));

    const tampered = envelope({ prompt: 'list the files' });
    const bytes = jobBytes(cp, 'jobs-host', tampered);
    const at = bytes.indexOf('list the files');
    bytes[at] = 'L'.charCodeAt(0);
    await bucket.put(cp.layout.job('jobs-host', tampered.run_id), bytes);

    const forged = envelope();
    const other = await testCp();
    await bucket.put(cp.layout.job('jobs-host', forged.run_id), jobBytes(cp, 'jobs-host', forged, { signer: createObjectSigner('cp', other.ca.keyPem) }));

    const copied = envelope();
    await bucket.put(cp.layout.job('jobs-host', copied.run_id), jobBytes(cp, 'other-host', copied));

    const expired = envelope();
    await bucket.put(cp.layout.job('jobs-host', expired.run_id), jobBytes(cp, 'jobs-host', expired, { issuedAt: Date.now() - 7_200_000, expiresAt: Date.now() - 1000 }));
    await bucket.put(`${cp.layout.inbox('jobs-host')}garbage.txt`, 'not an object');
    const huge = envelope();
    await bucket.put(cp.layout.job('jobs-host', huge.run_id), Buffer.alloc(4 * 1024 * 1024 + 1, 0x61));

    const logs = captureLogger();
    const second = transport(bucket, { stateDir: state }, logs);
    const r2 = recorder();
    second.start(r2);
    await waitFor(() => Object.values(second.refusals()).reduce((a, b) => a + b, 0) >= 6, 5000, 'six refusals');
    const gets = bucket.requestCounts().get ?? 0;
    const lists = bucket.requestCounts().list ?? 0;
    await waitFor(() => (bucket.requestCounts().list ?? 0) >= lists + 3, 5000, 'three more polls');
    expect(bucket.requestCounts().get ?? 0).toBe(gets); // refused objects are not read again
    expect(r2.dispatched).toEqual([]);
    expect(Object.values(second.refusals()).reduce((a, b) => a + b, 0)).toBe(6);
    expect(second.refusals()).toMatchObject({ 'not a key of this inbox': 1, 'expired at': 1, 'larger than': 1 });
    const reasons = logs.lines().filter((l) => l.msg === 'bucket object refused; not acted on').map((l) => String(l.reason));
    expect(reasons.some((s) => s.startsWith('signature does not verify'))).toBe(true);
    expect(reasons.some((s) => s.includes('moved or replayed') || s.startsWith('addressed to'))).toBe(true);
    expect(logs.text()).not.toContain('list the files');
    expect(logs.text()).not.toContain('List the files');
    for (const e of [tampered, forged, copied, expired, old, huge]) expect(bucket.objects.has(cp.layout.claim('jobs-host', e.run_id))).toBe(false);
  });

  it('cancels a claimed run, once; a job cancelled before it was claimed is not run', async () => {
    const bucket = createMemoryBucket();
    const t = transport(bucket);
    const r = recorder();
    const env = envelope();
    await putJob(bucket, cp, 'jobs-host', env);
    const early = envelope();
    await putJob(bucket, cp, 'jobs-host', early);
    await putCancel(bucket, cp, 'jobs-host', early.run_id);
    t.start(r);
    await waitFor(() => r.dispatched.length === 1, 5000, 'the dispatch');
    await putCancel(bucket, cp, 'jobs-host', env.run_id);
    await waitFor(() => r.cancels.length === 1, 5000, 'the cancel');
    const lists = bucket.requestCounts().list ?? 0;
    await waitFor(() => (bucket.requestCounts().list ?? 0) >= lists + 3, 5000, 'three more polls');
    expect(r.cancels).toEqual([env.run_id]);
    expect(r.dispatched.map((e) => e.run_id)).toEqual([env.run_id]);
  });

  it('writes events as signed objects, acknowledges after the PUT, and writes the exit after run_end', async () => {
    const bucket = createMemoryBucket();
    const t = transport(bucket);
    const r = recorder();
    t.start(r);
    await waitFor(() => t.isUp(), 5000, 'up');
    const runId = envelope().run_id;
    const many = Array.from({ length: 1500 }, (_, i) => record(runId, i + 1));
    t.send(many);
    t.send([record(runId, 1501, { type: 'run_end', status: 'succeeded' })]);
    await waitFor(() => r.acks.length === 1501, 5000, 'every ack');
    const out = await readOutbox(bucket, cp, 'jobs-host', host.keyPem);
    expect(out.records.map((x) => x.seq)).toEqual(Array.from({ length: 1501 }, (_, i) => i + 1));
    expect(out.exits).toEqual([{ run_id: runId, status: 'succeeded', last_seq: 1501 }]);
    // 1,000 records at most per object: 1,500 + 1 make three objects, and the exit is a fourth.
    expect((await bucket.list(cp.layout.hostOutbox('jobs-host'))).entries).toHaveLength(4);
  });

  it('does not acknowledge what it could not write; goes down, and up again (re-offering) when the store returns', async () => {
    const mem = createMemoryBucket();
    const { bucket, state } = flaky(mem);
    const t = transport(bucket);
    const r = recorder();
    t.start(r);
    await waitFor(() => r.ups === 1, 5000, 'up');
    state.failing = true;
    const runId = envelope().run_id;
    t.send([record(runId, 1), record(runId, 2, { type: 'run_end', status: 'failed' })]);
    await waitFor(() => r.downs.length === 1, 5000, 'down');
    expect(r.downs[0]).toContain('ECONNREFUSED');
    expect(t.isUp()).toBe(false);
    expect(r.acks).toEqual([]);
    state.failing = false;
    await waitFor(() => r.ups === 2, 5000, 'up again');
    t.send([record(runId, 1), record(runId, 2, { type: 'run_end', status: 'failed' })]);
    await waitFor(() => r.acks.length >= 2, 5000, 'acks');
    expect((await readOutbox(mem, cp, 'jobs-host', host.keyPem)).exits).toContainEqual({ run_id: runId, status: 'failed', last_seq: 2 });
  });

  it('signs with a renewed key once told (auto mode: the tunnel renewed the certificate)', async () => {
    const bucket = createMemoryBucket();
    const t = transport(bucket);
    const r = recorder();
    t.start(r);
    await waitFor(() => t.isUp(), 5000, 'up');
    const renewed = await testHost(cp, 'jobs-host');
    t.setKey(renewed.keyPem);
    const runId = envelope().run_id;
    t.send([record(runId, 1)]);
    await waitFor(() => r.acks.length === 1, 5000, 'the ack');
    expect((await readOutbox(bucket, cp, 'jobs-host', renewed.keyPem)).records.map((x) => x.seq)).toEqual([1]);
    await expect(readOutbox(bucket, cp, 'jobs-host', host.keyPem)).rejects.toThrow(/signature does not verify/);
  });

  it('runs a job whose claim request failed after the store made the claim (read back: its own), once', async () => {
    const mem = createMemoryBucket();
    let cut = true;
    const bucket: Bucket = {
      ...mem, description: mem.description, requestCounts: () => mem.requestCounts(), close: () => undefined,
      put: (k, b) => mem.put(k, b), get: (k, m) => mem.get(k, m), list: (p, o) => mem.list(p, o), delete: (k) => mem.delete(k),
      putIfAbsent: async (k, b) => {
        const outcome = await mem.putIfAbsent(k, b);
        if (cut) {
          cut = false;
          throw new Error('socket hang up (test: the answer was lost, the write was not)');
        }
        return outcome;
      },
    };
    const env = envelope();
    await putJob(mem, cp, 'jobs-host', env);
    const r = recorder();
    const t = transport(bucket);
    t.start(r);
    await waitFor(() => r.dispatched.length === 1, 5000, 'the dispatch after the lost answer');
    expect(r.downs).toHaveLength(1);
    const lists = mem.requestCounts().list ?? 0;
    await waitFor(() => (mem.requestCounts().list ?? 0) >= lists + 3, 5000, 'more polls');
    expect(r.dispatched.map((e) => e.run_id)).toEqual([env.run_id]);

  });

  it('batches what is offered within the window into one object, and writes what is left on stop', async () => {
    const bucket = createMemoryBucket();
    const t = transport(bucket, { batchMs: 60_000 });
    const r = recorder();
    t.start(r);
    await waitFor(() => t.isUp(), 5000, 'up');
    const runId = envelope().run_id;
    for (let seq = 1; seq <= 5; seq++) t.send([record(runId, seq)]);
    t.send([record(runId, 6, { type: 'run_end', status: 'cancelled' })]);
    expect(r.acks).toEqual([]);
    await t.stop();
    expect(r.acks).toHaveLength(6);
    const out = await readOutbox(bucket, cp, 'jobs-host', host.keyPem);
    expect(out.records.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.exits).toEqual([{ run_id: runId, status: 'cancelled', last_seq: 6 }]);
    expect((await bucket.list(cp.layout.hostOutbox('jobs-host'))).entries).toHaveLength(2);
  });
});
