import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { jobBodySchema, cancelBodySchema, hostParty } from '../../../src/protocol/bucket-objects.js';
import { readObject } from '../../../src/transport/bucket/signed-object.js';
import { errorCode, errorMessage, record, startCp, waitFor, type CpHarness } from '../cp-harness.js';
import { hostWriter, keysUnder, startJobsCp, type JobsCp } from './jobs-helpers.js';

const AGENT = 'name: edr\ndescription: test\nmodel: fake\nprompt: look\ntools: []\n';

describe('the jobs route', () => {
  let env: JobsCp | undefined;
  let plain: CpHarness | undefined;
  afterEach(async () => {
    await env?.cp.close();
    await plain?.close();
    env = undefined;
    plain = undefined;
  });

  const readJob = async (e: JobsCp, key: string, kind: 'job' | 'cancel', host: string): Promise<unknown> => {
    const got = await e.bucket.get(key, 1 << 22);
    if (!got || got.tooLarge) throw new Error(`no object at ${key}`);
    const caKey = new X509Certificate(e.cp.caPem).publicKey;
    const read = readObject(got.body, {
      key: e.layout.relative(key) as string, kind, to: hostParty(host), now: Date.now(),
      from: (p) => p === 'cp', keysOf: (p) => (p === 'cp' ? [caKey] : undefined),
    });
    if (!read.ok) throw new Error(read.reason);
    return read.object.lines[0];
  };

  it('dispatches to a host heard through the bucket with a job signed by the CA, and cleans its inbox when the run ends', async () => {
    env = await startJobsCp();
    const host = await env.cp.registerHost('batch-01');
    const w = hostWriter(host, env.layout);
    await env.bucket.put(env.layout.heartbeat('batch-01'), w.heartbeat());
    await env.scan();
    const run = await env.cp.admin.createRun({ host: 'batch-01', agent: 'edr', definition: AGENT, prompt: 'check', dispatch: 'auto' });
    expect(run).toMatchObject({ status: 'dispatched', route: 'jobs' });
    const jobKey = env.layout.job('batch-01', run.run_id);
    const envelope = jobBodySchema.parse(await readJob(env, jobKey, 'job', 'batch-01'));
    expect(envelope).toMatchObject({ run_id: run.run_id, agent: 'edr', prompt: 'check' });

    // The host claims it, runs it, cancels arrive through the bucket, and its events end it.
    await env.bucket.put(env.layout.claim('batch-01', run.run_id), 'claim');
    await env.cp.admin.cancelRun(run.run_id, 'enough');
    expect(cancelBodySchema.parse(await readJob(env, env.layout.cancel('batch-01', run.run_id), 'cancel', 'batch-01'))).toMatchObject({ run_id: run.run_id, reason: 'enough' });
    const key = w.eventsKey();
    await env.bucket.put(key, w.events(key, [record(run.run_id, 0, { type: 'run_start' }), record(run.run_id, 1, { type: 'run_end', status: 'cancelled' })]));
    await env.scan();
    expect((await env.cp.admin.getRun(run.run_id)).status).toBe('cancelled');
    await waitFor(async () => (await keysUnder(env!.bucket, env!.layout.inbox('batch-01'))).length === 0, 5000, 'the inbox to be cleaned');
  });

  it('an exit object cleans the run\'s inbox and is consumed', async () => {
    env = await startJobsCp();
    const host = await env.cp.registerHost('batch-02');
    const w = hostWriter(host, env.layout);
    await env.bucket.put(env.layout.heartbeat('batch-02'), w.heartbeat());
    await env.scan();
    const run = await env.cp.admin.createRun({ host: 'batch-02', agent: 'edr', definition: AGENT, dispatch: 'jobs' });
    await env.bucket.put(env.layout.claim('batch-02', run.run_id), 'claim');
    const exitKey = w.exitKey();
    await env.bucket.put(exitKey, w.obj('exit', exitKey, [{ run_id: run.run_id, status: 'completed', last_seq: 3 }]));
    await env.scan();
    await waitFor(async () => (await keysUnder(env!.bucket, env!.layout.inbox('batch-02'))).length === 0, 5000, 'the inbox to be cleaned');
    expect(await keysUnder(env.bucket, env.layout.outbox())).toEqual([]);
  });

  it('says why no route reaches a host', async () => {
    let now = Date.now();
    env = await startJobsCp({ now: () => now });
    const host = await env.cp.registerHost('batch-03');
    await env.cp.registerHost('tunnel-only');
    // A host that never used the bucket and has no tunnel.
    let answer = await env.cp.request('POST', '/v1/runs', { json: { host: 'tunnel-only', agent: 'edr', definition: AGENT } });
    expect(errorCode(answer.body)).toBe('OKS_ERR_HOST_UNREACHABLE');
    expect(errorMessage(answer.body)).toMatch(/tunnel-only is not reachable: no tunnel connected; the host does not use the bucket/);
    // A bucket host silent for 12 of its intervals (10 s each) and more.
    const w = hostWriter(host, env.layout, () => now);
    await env.bucket.put(env.layout.heartbeat('batch-03'), w.heartbeat({ interval_ms: 10_000 }));
    await env.scan();
    now += 15 * 10_000;
    answer = await env.cp.request('POST', '/v1/runs', { json: { host: 'batch-03', agent: 'edr', definition: AGENT, dispatch: 'jobs' } });
    expect(errorMessage(answer.body)).toMatch(/batch-03 is not reachable: the host has been offline for 15 intervals/);

    plain = await startCp();
    await plain.registerHost('h1');
    answer = await plain.request('POST', '/v1/runs', { json: { host: 'h1', agent: 'edr', definition: AGENT } });
    expect(errorMessage(answer.body)).toMatch(/h1 is not reachable: no tunnel connected; no bucket configured on this CP/);
    answer = await plain.request('POST', '/v1/runs', { json: { host: 'h1', agent: 'edr', definition: AGENT, dispatch: 'jobs' } });
    expect(errorMessage(answer.body)).toMatch(/no bucket configured on this CP/);
  });

  it('judges a bucket host by its own heartbeat interval', async () => {
    let now = Date.now();
    env = await startJobsCp({ now: () => now });
    const host = await env.cp.registerHost('slow');
    const w = hostWriter(host, env.layout, () => now);
    await env.bucket.put(env.layout.heartbeat('slow'), w.heartbeat({ poll_ms: 60_000, interval_ms: 60_000 }));
    await env.scan();
    const state = async (): Promise<unknown> => (await env!.cp.admin.hosts()).find((h) => h.hostname === 'slow');
    expect(await state()).toMatchObject({ state: 'online', path: 'jobs', poll_ms: 60_000, heartbeat_interval_ms: 60_000 });
    // 2.5 minutes of silence: online for a 60 s poller (the tunnel's interval here is 200 ms).
    now += 150_000;
    expect(await state()).toMatchObject({ state: 'online' });
    now += 100_000;
    expect(await state()).toMatchObject({ state: 'stale' });
    now += 12 * 60_000;
    expect(await state()).toMatchObject({ state: 'offline', path: null });
    // Persisted: a restarted CP knows the interval before it hears the host again.
    await env.cp.restart();
    expect(await state()).toMatchObject({ state: 'offline', transport: 'jobs', poll_ms: 60_000, heartbeat_interval_ms: 60_000 });
  });
  it('deletes a removed host\'s inbox and heartbeat', async () => {
    env = await startJobsCp();
    const e = env;
    const host = await e.cp.registerHost('gone-01');
    const w = hostWriter(host, e.layout);
    await e.bucket.put(e.layout.heartbeat('gone-01'), w.heartbeat());
    await e.scan();
    await e.cp.admin.createRun({ host: 'gone-01', agent: 'edr', definition: AGENT, prompt: 'one', dispatch: 'jobs' });
    await e.cp.admin.createRun({ host: 'gone-01', agent: 'edr', definition: AGENT, prompt: 'two', dispatch: 'jobs' });
    expect(await keysUnder(e.bucket, e.layout.inbox('gone-01'))).toHaveLength(2);
    await e.cp.admin.removeHost('gone-01');
    await waitFor(async () => (await keysUnder(e.bucket, e.layout.inbox('gone-01'))).length === 0 && !(await e.bucket.get(e.layout.heartbeat('gone-01'), 1 << 20)), 5000);
    expect((await e.cp.admin.hosts()).some((h) => h.hostname === 'gone-01')).toBe(false);
  });
});
