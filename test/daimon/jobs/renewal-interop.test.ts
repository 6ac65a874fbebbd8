import { createPublicKey, X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createDaimon } from '../../../daimon/daimon.js';
import { loadIdentity, type DaimonIdentity } from '../../../daimon/identity.js';
import { publicKeyText } from '../../../src/cp/jobs/host-keys.js';
import { keyMatchesCert } from '../../../src/pki/cert-lifetime.js';
import { hostParty } from '../../../src/protocol/bucket-objects.js';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import { readObject } from '../../../src/transport/bucket/signed-object.js';
import { startCp } from '../../cp/cp-harness.js';
import { captureLogger, eventually, tempDir } from '../core/helpers.js';

// A jobs-only daimon has no tunnel to renew over: it renews through the bucket. The whole daimon against the real CP
// (in-process, one memory bucket between them), with certificates short enough that renewal comes within the test.
const HOST = 'renew-jobs';
// Renewal is due when a third of the lifetime is left: ~6 s after issue.
const TTL_MS = 9000;
const agent = (name: string, script: string): string => `---\nname: ${name}\ncommand: ${JSON.stringify(['node', '-e', script])}\n---\n`;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe('a jobs-only daimon renews its certificate through the bucket', () => {
  it('renews before expiry, stores key and certificate, and signs what it writes next with the new key', async () => {
    const bucket = createMemoryBucket();
    // Every PUT, to check afterwards which key signed the events the CP consumed (and deleted).
    const puts: { key: string; body: Buffer }[] = [];
    const put = bucket.put.bind(bucket);
    bucket.put = async (key, body) => {
      puts.push({ key, body: Buffer.from(body) });
      return put(key, body);
    };
    const cp = await startCp({ options: { bucketStore: bucket, bucket: { bucket: 'test', prefix: 'pfx' }, bucketScanMs: 100, hostCertTtlMs: TTL_MS } });
    stops.push(() => cp.close());
    const { token } = await cp.admin.createToken({ kind: 'join', uses: 1 });
    const dir = tempDir('renew-jobs');
    const log = captureLogger();
    const daimon = createDaimon(
      { stateDir: dir, token, hostname: HOST, builtinAgents: false, version: '1.0.0', bucket: { bucket: 'test', prefix: 'pfx' }, pollMs: 100 },
      { log: log.log, openBucket: async () => bucket },
    );
    let running = true;
    stops.push(async () => {
      if (running) await daimon.stop();
    });
    await daimon.start();
    const first = loadIdentity(dir);
    if (!first) throw new Error('not registered');
    const firstNotAfter = Date.parse(new X509Certificate(first.certPem).validTo);

    const renewed = await eventually<DaimonIdentity>(async () => {
      const id = loadIdentity(dir);
      return id && id.certPem !== first.certPem ? id : undefined;
    }, 20_000, 'the renewed certificate on disk');
    expect(Date.now()).toBeLessThan(firstNotAfter);
    expect(renewed).toMatchObject({ hostname: HOST, credential: first.credential, cp: first.cp, registeredAt: first.registeredAt });
    expect(keyMatchesCert(renewed.keyPem, renewed.certPem)).toBe(true);
    expect(renewed.keyPem).not.toBe(first.keyPem);
    expect(new X509Certificate(renewed.certPem).verify(new X509Certificate(first.caPem).publicKey)).toBe(true);
    const newKey = createPublicKey(renewed.keyPem);
    // The CP holds the key the daimon holds (the new one, or a later one: renewal comes every ~6 s here).
    const st = cp.cp.store();
    await eventually(async () => st.hosts.get(HOST)?.public_key === publicKeyText(createPublicKey(loadIdentity(dir)?.keyPem ?? first.keyPem)) || undefined, 10_000, 'the CP and the daimon to agree on the key');
    expect(st.hosts.get(HOST)?.public_key).not.toBe(publicKeyText(createPublicKey(first.keyPem)));
    const audit = (await cp.admin.audit(50)).filter((e) => e.action === 'host.renew_cert');
    expect(audit[audit.length - 1]).toMatchObject({ target: HOST, detail: { via: 'bucket' } });
    expect(log.lines().some((l) => l['msg'] === 'host certificate renewed' && l['via'] === 'bucket')).toBe(true);

    // A run dispatched now: its events objects verify with the new key alone, and the new key, printed by the run,
    // is redacted as the first one would be.
    const printKey = `console.log(JSON.stringify({type:"text",text:${JSON.stringify(renewed.keyPem)}}))`;
    const run = await cp.admin.createRun({ host: HOST, agent: 'hi', definition: agent('hi', printKey), prompt: 'x', dispatch: 'jobs' });
    const done = await eventually(async () => {
      const r = await cp.admin.getRun(run.run_id);
      return r.status !== 'dispatched' && r.status !== 'running' && r;
    }, 20_000, 'the run to end');
    expect(done).toMatchObject({ status: 'completed', route: 'jobs', events: 3 });
    const printed = JSON.stringify((await cp.admin.runEvents(run.run_id, 0, 0)).events);
    expect(printed).toContain('[REDACTED:OKESU_HOST_KEY]');
    for (const line of renewed.keyPem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))) expect(printed).not.toContain(line);
    const events = puts.filter((p) => p.key.startsWith(`pfx/out/${HOST}/`) && p.key.endsWith('.events') && p.body.includes(run.run_id));
    expect(events.length).toBeGreaterThan(0);
    // Renewal comes every ~6 s here: each object verifies with the key renewed above or a later one.
    const keysNow = (): ReturnType<typeof createPublicKey>[] => {
      const id = loadIdentity(dir);
      return [newKey, ...(id ? [createPublicKey(id.keyPem)] : [])];
    };
    for (const e of events) {
      const read = readObject(e.body, { key: e.key.slice('pfx/'.length), kind: 'events', to: 'cp', now: Date.now(), from: (p) => p === hostParty(HOST), keysOf: () => keysNow() });
      expect(read).toMatchObject({ ok: true });
      const old = readObject(e.body, { key: e.key.slice('pfx/'.length), kind: 'events', to: 'cp', now: Date.now(), from: (p) => p === hostParty(HOST), keysOf: () => [createPublicKey(first.keyPem)] });
      expect(old.ok).toBe(false);
    }
    // Requests answered and removed by the CP, answers removed by the host; nothing quarantined.
    await eventually(async () => (await bucket.list('pfx/reg/')).entries.every((x) => !x.key.endsWith('.renewed') && !x.key.endsWith('.renew')) || undefined, 10_000, 'reg/ cleaned');
    expect((await bucket.list('pfx/quarantine/')).entries).toEqual([]);
    running = false;
    await daimon.stop();
    const final = loadIdentity(dir);
    expect(final && keyMatchesCert(final.keyPem, final.certPem)).toBe(true);
  }, 60_000);
});
