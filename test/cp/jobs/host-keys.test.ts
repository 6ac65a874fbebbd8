import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/cp/store/store.js';
import { createHostKeys, publicKeyText } from '../../../src/cp/jobs/host-keys.js';
import { asTicks, findingRecord, hello, runId, waitFor } from '../cp-harness.js';
import { hostWriter, quarantineNotes, startJobsCp, type JobsCp } from './jobs-helpers.js';

const spki = (): string => publicKeyText(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);

describe('host public keys', () => {
  let env: JobsCp | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await env?.cp.close();
    env = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps the key a renewal replaced, and a revoked host has none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'okesu-keys-'));
    dirs.push(dir);
    const store = openStore(join(dir, 'cp.db'));
    const first = spki();
    store.hosts.insert({ hostname: 'h1', cert_serial: 's1', credential_id: 'c1', credential_hash: 'x', os: '', arch: '', version: '', labels: {}, registered_at: 0, public_key: first });
    const keys = createHostKeys(store.hosts);
    expect(keys.keysOf('h1')?.map(publicKeyText)).toEqual([first]);
    const second = spki();
    const row = store.hosts.get('h1');
    expect(store.hosts.renewCert(row!.id, 's1', { serial: 's2', issuedAt: 1, notAfter: 2, publicKey: second })).toBe(true);
    expect(keys.keysOf('h1')?.map(publicKeyText)).toEqual([second, first]);
    store.hosts.revoke('h1', 5);
    expect(keys.keysOf('h1')).toBeUndefined();
    expect(keys.keysOf('nobody')).toBeUndefined();
    store.close();
  });

  it('stores the CSR\'s key at registration and backfills a missing one from the tunnel\'s certificate', async () => {
    env = await startJobsCp();
    const host = await env.cp.registerHost('old-host');
    const st = env.cp.cp.store();
    const certKey = publicKeyText(new X509Certificate(host.cert).publicKey);
    expect(st.hosts.get('old-host')?.public_key).toBe(certKey);
    expect(certKey).toBe(publicKeyText(createPublicKey(host.key)));
    // A host registered before keys were kept.
    st.db.prepare('UPDATE hosts SET public_key = NULL').run();
    const w = hostWriter(host, env.layout);
    const run = runId();
    let key = w.eventsKey();
    await env.bucket.put(key, w.events(key, asTicks([findingRecord(run, 1)])));
    await env.scan();
    expect((await quarantineNotes(env.bucket, env.layout)).map((n) => n.reason)).toEqual(['no key known for host:old-host']);
    const tunnel = await env.cp.connectHost(host);
    await waitFor(() => st.hosts.get('old-host')?.public_key === certKey, 5000, 'the key to be backfilled');
    tunnel.terminate();
    key = w.eventsKey();
    await env.bucket.put(key, w.events(key, asTicks([findingRecord(run, 1)])));
    await env.scan();
    expect((await env.cp.admin.getRun(run)).events).toBe(2);
  });

  it('a hello naming a bucket makes the host auto: the tunnel while it is up, the bucket after', async () => {
    env = await startJobsCp();
    const host = await env.cp.registerHost('hybrid');
    const tunnel = await env.cp.connectHost(host, { hello: false });
    tunnel.send(hello({ bucket: { poll_ms: 10_000, interval_ms: 20_000 } }));
    const view = async (): Promise<unknown> => (await env!.cp.admin.hosts()).find((h) => h.hostname === 'hybrid');
    await waitFor(async () => ((await view()) as { transport: string }).transport === 'auto', 5000, 'transport auto');
    expect(await view()).toMatchObject({ transport: 'auto', path: 'tunnel', poll_ms: 10_000, heartbeat_interval_ms: 200 });
    tunnel.terminate();
    await waitFor(async () => ((await view()) as { connected: boolean }).connected === false, 5000, 'the tunnel to drop');
    expect(await view()).toMatchObject({ state: 'online', path: 'jobs', heartbeat_interval_ms: 20_000 });
    // The jobs route reaches it now.
    const run = await env.cp.admin.createRun({ host: 'hybrid', agent: 'edr', definition: 'name: edr\ndescription: t\nmodel: fake\nprompt: x\ntools: []\n' });
    expect(run).toMatchObject({ status: 'dispatched', route: 'jobs' });
  });
});
