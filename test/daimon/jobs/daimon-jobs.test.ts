import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDaimon } from '../../../daimon/daimon.js';
import type { Daimon } from '../../../daimon/daimon.js';
import { loadIdentity } from '../../../daimon/identity.js';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import { captureLogger, eventually, tempDir, waitFor } from '../core/helpers.js';
import { answerRegistrations, joinToken } from './fake-answerer.js';
import { envelope, putCancel, putJob, readOutbox, testCp } from './helpers.js';
import type { TestCp } from './helpers.js';

// A whole daimon in jobs mode over the memory bucket, with the test playing the CP: it answers the registration,
// writes signed jobs, and reads the events back as the CP would.
let cp: TestCp;
const running: Daimon[] = [];
beforeAll(async () => {
  cp = await testCp('fleet');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

const agent = (name: string, script: string): string => `---\nname: ${name}\ncommand: ${JSON.stringify(['node', '-e', script])}\n---\n`;

describe('daimon in jobs mode (memory bucket, test-side CP)', () => {
  it('registers through the bucket, runs a job once, writes its events and exit, and honours a cancel', async () => {
    const bucket = createMemoryBucket();
    const state = tempDir('djobs');
    const { token, secretHash } = joinToken(cp.ca);
    const logs = captureLogger();
    const daimon = createDaimon(
      {
        stateDir: state, token, hostname: 'jobs-daimon', builtinAgents: false, version: '1.0.0', transport: 'jobs',
        bucket: { bucket: 'okesu-test', prefix: 'fleet' }, pollMs: 30,
      },
      { log: logs.log, openBucket: async () => bucket },
    );
    running.push(daimon);
    let started = false;
    const starting = daimon.start().finally(() => (started = true));
    while (!started) {
      await answerRegistrations(bucket, cp.layout, cp.ca, secretHash, 'grant');
      await new Promise((r) => setTimeout(r, 10));
    }
    await starting;
    expect(loadIdentity(state)?.cp).toBe('s3://okesu-test/fleet');
    await waitFor(() => bucket.objects.has(cp.layout.heartbeat('jobs-daimon')), 5000, 'a heartbeat');

    const env = envelope({ agent: 'once', definition: agent('once', 'console.log(JSON.stringify({type:"text",text:"hi from the bucket"}))') });
    await putJob(bucket, cp, 'jobs-daimon', env);
    const outbox = () => readOutbox(bucket, cp, 'jobs-daimon', loadIdentity(state)?.keyPem as string);
    const out = await eventually(async () => { const o = await outbox(); return o.exits.length === 1 && o; }, 15_000, 'the exit');
    expect(out.exits).toEqual([expect.objectContaining({ run_id: env.run_id, status: 'completed' })]);
    const types = out.records.filter((x) => x.run_id === env.run_id).map((x) => x.event.type);
    expect(types[0]).toBe('run_start');
    expect(types.filter((t) => t === 'run_start')).toHaveLength(1);
    expect(types.at(-1)).toBe('run_end');
    expect(out.records.some((x) => x.event.type === 'text' && (x.event as { text?: string }).text === 'hi from the bucket')).toBe(true);
    expect(out.exits[0]?.last_seq).toBe(Math.max(...out.records.filter((x) => x.run_id === env.run_id).map((x) => x.seq)));
    expect(new Set(out.records.map((x) => `${x.run_id}#${x.seq}`)).size).toBe(out.records.length);

    // A long run, then its cancel through the bucket.
    const long = envelope({ agent: 'slow', definition: agent('slow', 'setTimeout(() => {}, 60000)') });
    await putJob(bucket, cp, 'jobs-daimon', long);
    await waitFor(() => bucket.objects.has(cp.layout.claim('jobs-daimon', long.run_id)), 5000, 'the claim');
    await putCancel(bucket, cp, 'jobs-daimon', long.run_id, 'operator said stop');
    await eventually(async () => (await outbox()).exits.some((e) => e.run_id === long.run_id), 15_000, 'the cancelled run’s exit');
    expect((await outbox()).exits.find((e) => e.run_id === long.run_id)?.status).toBe('cancelled');
  });
  it('refuses to poll a store that does not honour conditional creates', async () => {
    const inner = createMemoryBucket();
    const overwriting = { ...inner, putIfAbsent: async (key: string, body: Buffer | string) => (await inner.put(key, body), 'created' as const) };
    const { token, secretHash } = joinToken(cp.ca);
    const daimon = createDaimon(
      { stateDir: tempDir('dprobe'), token, hostname: 'probe-daimon', builtinAgents: false, version: '1.0.0', transport: 'jobs', bucket: { bucket: 'okesu-test', prefix: 'fleet' }, pollMs: 30 },
      { log: captureLogger().log, openBucket: async () => overwriting },
    );
    let settled = false;
    // The outcome is taken at once (a rejection is not left unhandled while the loop below answers the registration).
    const outcome = daimon.start().then(() => 'started', (err: unknown) => err).finally(() => (settled = true));
    while (!settled) {
      await answerRegistrations(inner, cp.layout, cp.ca, secretHash, 'grant');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(String(await outcome)).toMatch(/does not honour conditional writes/);
    expect([...inner.objects.keys()].filter((k) => k.includes('/hb/') || k.includes('.claim'))).toEqual([]);
  });
});
