import { afterEach, describe, expect, it } from 'vitest';
import { createDaimon } from '../../../daimon/daimon.js';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import { startCp } from '../../cp/cp-harness.js';
import { captureLogger, eventually, tempDir } from '../core/helpers.js';

// The daimon's jobs side against the real CP's (in-process, one memory bucket between them): the contract both were
// built against, checked end to end. The journeys with radosgw and real processes are the e2e suite's.
const agent = (name: string, script: string): string => `---\nname: ${name}\ncommand: ${JSON.stringify(['node', '-e', script])}\n---\n`;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function setup(hostname: string, withTunnel: boolean) {
  const bucket = createMemoryBucket();
  const cp = await startCp({ options: { bucketStore: bucket, bucket: { bucket: 'test', prefix: 'pfx' }, bucketScanMs: 100 } });
  stops.push(() => cp.close());
  const { token } = await cp.admin.createToken({ kind: 'join', uses: 1 });
  const daimon = createDaimon(
    { stateDir: tempDir('interop'), ...(withTunnel && { cp: cp.url }), token, hostname, builtinAgents: false, version: '1.0.0', bucket: { bucket: 'test', prefix: 'pfx' }, pollMs: 100 },
    { log: captureLogger().log, openBucket: async () => bucket },
  );
  stops.push(() => daimon.stop());
  await daimon.start();
  return { bucket, cp };
}

describe('daimon jobs side against the real CP (memory bucket)', () => {
  it.each([
    ['jobs-only', 'interop-jobs', false, 'jobs', 'jobs'],
    ['auto', 'interop-auto', true, 'auto', 'tunnel'],
  ])('%s: registers, shows online with its transport, runs a run dispatched through the bucket, and its inbox is cleaned', async (_label, hostname, withTunnel, transport, path) => {
    const { bucket, cp } = await setup(hostname, withTunnel);
    // An auto host is online through its tunnel before its first bucket heartbeat tells the CP its transport and poll.
    const host = await eventually(async () => (await cp.admin.hosts()).find((h) => h.hostname === hostname && h.state === 'online' && h.path === path && h.poll_ms !== null), 15_000, 'online');
    expect(host).toMatchObject({ transport, poll_ms: 100 });
    const run = await cp.admin.createRun({ host: hostname, agent: 'hi', definition: agent('hi', 'console.log(JSON.stringify({type:"text",text:"yo"}))'), prompt: 'x', dispatch: 'jobs' });
    const done = await eventually(async () => {
      const r = await cp.admin.getRun(run.run_id);
      return r.status !== 'dispatched' && r.status !== 'running' && r;
    }, 20_000, 'the run to end');
    expect(done).toMatchObject({ status: 'completed', route: 'jobs', events: 3 });
    await eventually(async () => (await bucket.list(`pfx/hosts/${hostname}/inbox/`)).entries.length === 0, 10_000, 'the inbox cleaned');
    await eventually(async () => (await bucket.list('pfx/out/')).entries.length === 0, 10_000, 'the outbox consumed');
    expect((await bucket.list('pfx/quarantine/')).entries).toEqual([]);
  });
});
