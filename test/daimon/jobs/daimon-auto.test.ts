import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDaimon } from '../../../daimon/daimon.js';
import type { Daimon } from '../../../daimon/daimon.js';
import { loadIdentity } from '../../../daimon/identity.js';
import { bucketLayout } from '../../../src/protocol/bucket-layout.js';
import { createObjectSigner } from '../../../src/transport/bucket/signed-object.js';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import { startFakeCp } from '../core/fake-cp.js';
import type { FakeCp, FakeTunnel, Frame } from '../core/fake-cp.js';
import { captureLogger, eventually, tempDir, waitFor } from '../core/helpers.js';
import { envelope, putJob, readOutbox } from './helpers.js';
import type { TestCp } from './helpers.js';

// A whole daimon in auto mode: the fake CP's tunnel (real mTLS) and a memory bucket signed for with the same CA.
let fake: FakeCp;
let cp: TestCp;
const running: Daimon[] = [];
beforeAll(async () => {
  fake = await startFakeCp({ heartbeatMs: 2000 });
  cp = { ca: fake.ca, signer: createObjectSigner('cp', fake.ca.keyPem), layout: bucketLayout('fleet') };
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

const agent = (name: string, script: string): string => `---\nname: ${name}\ncommand: ${JSON.stringify(['node', '-e', script])}\n---\n`;
const frames = (type: string): Frame[] => fake.tunnels.flatMap((t) => t.frames.filter((f) => f.type === type));

describe('daimon in auto mode (fake CP tunnel, memory bucket)', () => {
  it('says in its hello that it polls a bucket, and runs a run that came both ways once', async () => {
    fake.ackEvents = true;
    const bucket = createMemoryBucket();
    const state = tempDir('dauto');
    const daimon = createDaimon(
      {
        stateDir: state, cp: fake.url, token: fake.joinToken(), hostname: 'auto-daimon', builtinAgents: false, version: '1.0.0',
        bucket: { bucket: 'okesu-test', prefix: 'fleet' }, pollMs: 40, heartbeatEvery: 5, tunnel: { backoffBaseMs: 20, backoffCapMs: 100 },
      },
      { log: captureLogger().log, openBucket: async () => bucket },
    );
    running.push(daimon);
    await daimon.start();
    await waitFor(() => frames('hello').length > 0, 10_000, 'the hello');
    expect(frames('hello')[0]?.bucket).toEqual({ poll_ms: 40, interval_ms: 200 });
    const tunnel = fake.tunnels.find((t) => !t.closed) as FakeTunnel;

    // The same run through the bucket and over the tunnel: one run.
    const env = envelope({ agent: 'twice', definition: agent('twice', 'console.log(JSON.stringify({type:"text",text:"once"}))') });
    await putJob(bucket, cp, 'auto-daimon', env);
    await waitFor(() => bucket.objects.has(cp.layout.claim('auto-daimon', env.run_id)), 5000, 'the claim');
    tunnel.send({ type: 'dispatch', envelope: env });
    const records = (): { run_id: string; seq: number; event: Record<string, unknown> }[] =>
      frames('events').flatMap((f) => f.records as { run_id: string; seq: number; event: Record<string, unknown> }[]);
    await waitFor(() => records().some((r) => r.run_id === env.run_id && r.event.type === 'run_end'), 15_000, 'run_end on the tunnel');
    await waitFor(() => frames('dispatch_ack').length === 1, 5000, 'the tunnel dispatch answered');
    const identity = loadIdentity(state);
    const viaBucket = await readOutbox(bucket, cp, 'auto-daimon', identity?.keyPem as string);
    const all = [...records(), ...viaBucket.records].filter((r) => r.run_id === env.run_id);
    expect(all.filter((r) => r.event.type === 'run_start')).toHaveLength(1);
    // The tunnel was up: the events went there, and no bucket heartbeat was needed after it came up.
    expect(viaBucket.records).toEqual([]);
  });

  it('delivers through the bucket while the tunnel is down', async () => {
    fake.ackEvents = true;
    const bucket = createMemoryBucket();
    const state = tempDir('dauto2');
    const daimon = createDaimon(
      {
        stateDir: state, cp: fake.url, token: fake.joinToken(), hostname: 'auto-down', builtinAgents: false, version: '1.0.0',
        bucket: { bucket: 'okesu-test', prefix: 'fleet' }, pollMs: 40, tunnel: { backoffBaseMs: 20, backoffCapMs: 100 },
      },
      { log: captureLogger().log, openBucket: async () => bucket },
    );
    running.push(daimon);
    await daimon.start();
    await waitFor(() => fake.tunnels.some((t) => !t.closed && t.frames.length > 0), 10_000, 'the tunnel');
    // The CP goes away: refuse every new tunnel and cut the one up.
    fake.upgradeRefusal = { status: 503, code: 'OKS_ERR_INTERNAL', message: 'test: down' };
    for (const t of fake.tunnels) t.ws.terminate();
    const env = envelope({ agent: 'solo', definition: agent('solo', 'console.log(JSON.stringify({type:"text",text:"via the bucket"}))') });
    await putJob(bucket, cp, 'auto-down', env);
    const key = loadIdentity(state)?.keyPem as string;
    const out = await eventually(async () => {
      const o = await readOutbox(bucket, cp, 'auto-down', key);
      return o.exits.length === 1 && o;
    }, 15_000, 'the run’s events and exit in the bucket');
    expect(out.records.filter((r) => r.run_id === env.run_id).map((r) => r.event.type)).toContain('run_end');
    expect(bucket.objects.has(cp.layout.heartbeat('auto-down'))).toBe(true);
    delete fake.upgradeRefusal;
  });
});
