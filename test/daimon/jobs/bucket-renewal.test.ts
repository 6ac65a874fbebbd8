import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBucketRenewer } from '../../../daimon/jobs/bucket-renewal.js';
import { hostObjects } from '../../../daimon/jobs/host-objects.js';
import { loadIdentity, NEXT_KEY_FILE, saveIdentity, type DaimonIdentity } from '../../../daimon/identity.js';
import { certLifetime, keyMatchesCert } from '../../../src/pki/cert-lifetime.js';
import { signHostCsr } from '../../../src/pki/host-cert.js';
import { hostParty, renewRequestBodySchema, type RenewAnswerBody } from '../../../src/protocol/bucket-objects.js';
import { renewalDueAt } from '../../../src/protocol/cert-expiry.js';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import { createObjectSigner, encodeObject, readObject, type ObjectSigner } from '../../../src/transport/bucket/signed-object.js';
import { captureLogger, tempDir } from '../core/helpers.js';
import { testCp, testHost } from './helpers.js';

const HOST = 'renew-unit';
const HOUR = 3_600_000;

/** A registered jobs-only host (1 h certificate), its renewer on a memory bucket and a clock the test moves. */
async function setup() {
  const cp = await testCp('pfx');
  const host = await testHost(cp, HOST);
  const cert = await signHostCsr(cp.ca, host.csrPem, HOST, { validityMs: HOUR });
  const stateDir = tempDir('renew-unit');
  const identity: DaimonIdentity = { cp: 's3://test/pfx', hostname: HOST, certPem: cert.certPem, caPem: cp.ca.certPem, credential: 'okh_test', keyPem: host.keyPem, registeredAt: 1 };
  saveIdentity(stateDir, identity);
  const bucket = createMemoryBucket();
  const clock = { at: Date.now() };
  const now = (): number => clock.at;
  let objects = hostObjects(cp.layout, HOST, createObjectSigner(hostParty(HOST), host.keyPem), now);
  const renewed: DaimonIdentity[] = [];
  const log = captureLogger();
  const renewer = createBucketRenewer(
    {
      bucket, layout: cp.layout, stateDir, identity, objects: () => objects,
      onRenewed: (id) => {
        renewed.push(id);
        objects = hostObjects(cp.layout, HOST, createObjectSigner(hostParty(HOST), id.keyPem), now);
      },
    },
    { log: log.log, now },
  );
  const dueAt = renewalDueAt(certLifetime(cert.certPem));
  return { cp, host, identity, stateDir, bucket, clock, renewer, renewed, log, dueAt };
}

/** The request the renewer wrote, verified with `keyPem` (the host's key when it wrote it). */
async function requestOf(env: Awaited<ReturnType<typeof setup>>, keyPem: string): Promise<{ csr: string; nonce: string }> {
  const nonce = env.renewer.pending() as string;
  const key = env.cp.layout.renewRequest(HOST, nonce);
  const got = await env.bucket.get(key, 1 << 20);
  if (!got || got.tooLarge) throw new Error('no request');
  const read = readObject(got.body, {
    key: env.cp.layout.relative(key) as string, kind: 'renew_req', to: 'cp', now: env.clock.at,
    from: (p) => p === hostParty(HOST), keysOf: () => [createPublicKey(keyPem)],
  });
  if (!read.ok) throw new Error(read.reason);
  return renewRequestBodySchema.parse(read.object.lines[0]);
}

/** Writes the CP's answer to the request in flight, signed by `signer` (the CA's, unless a forger's). */
async function answer(env: Awaited<ReturnType<typeof setup>>, body: RenewAnswerBody, signer: ObjectSigner = env.cp.signer): Promise<void> {
  const key = env.cp.layout.renewAnswer(HOST, body.nonce);
  await env.bucket.put(key, encodeObject({ kind: 'renew_ans', key: env.cp.layout.relative(key) as string, to: hostParty(HOST), issued_at: env.clock.at, expires_at: env.clock.at + HOUR }, [body], signer));
}

const counts = (env: Awaited<ReturnType<typeof setup>>): Record<string, number> => ({ ...env.bucket.requestCounts() });

describe('the bucket renewer of a jobs-only daimon', () => {
  it('costs no request until renewal is due; then one PUT, and one GET per poll while it waits', async () => {
    const env = await setup();
    env.clock.at = env.dueAt - 1;
    for (let i = 0; i < 5; i++) await env.renewer.poll();
    expect(Object.values(counts(env)).reduce((a, b) => a + b, 0)).toBe(0);
    expect(env.renewer.pending()).toBeUndefined();
    env.clock.at = env.dueAt;
    await env.renewer.poll();
    expect(counts(env)).toMatchObject({ put: 1 });
    expect(env.renewer.pending()).toMatch(/^[0-9a-f]{32}$/);
    expect(existsSync(join(env.stateDir, NEXT_KEY_FILE))).toBe(true);
    for (let i = 0; i < 3; i++) await env.renewer.poll();
    expect(counts(env)).toMatchObject({ put: 1, get: 3 });
  });

  it('stores a CA-signed certificate for the staged key, hands the identity over, and deletes the answer', async () => {
    const env = await setup();
    env.clock.at = env.dueAt;
    await env.renewer.poll();
    const req = await requestOf(env, env.host.keyPem);
    const cert = await signHostCsr(env.cp.ca, req.csr, HOST, { validityMs: HOUR, now: new Date(env.clock.at) });
    await answer(env, { nonce: req.nonce, ok: true, certificate: cert.certPem });
    await env.renewer.poll();
    expect(env.renewed).toHaveLength(1);
    const stored = loadIdentity(env.stateDir);
    expect(stored).toMatchObject({ certPem: cert.certPem, credential: 'okh_test', hostname: HOST });
    expect(keyMatchesCert(stored?.keyPem as string, cert.certPem)).toBe(true);
    expect(env.renewed[0]?.keyPem).toBe(stored?.keyPem);
    expect(existsSync(join(env.stateDir, NEXT_KEY_FILE))).toBe(false);
    expect(await env.bucket.get(env.cp.layout.renewAnswer(HOST, req.nonce), 1 << 20)).toBeUndefined();
    expect(env.renewer.pending()).toBeUndefined();
    // The next renewal is due by the new certificate, and its request is signed with the new key.
    await env.renewer.poll();
    expect(env.renewer.pending()).toBeUndefined();
    env.clock.at = renewalDueAt(certLifetime(cert.certPem));
    await env.renewer.poll();
    expect((await requestOf(env, stored?.keyPem as string)).nonce).toBe(env.renewer.pending());
  });

  it.each([
    ['a refusal', 'refused', async (env: Awaited<ReturnType<typeof setup>>, nonce: string) => answer(env, { nonce, ok: false, code: 'OKS_ERR_CERT_RENEWAL', message: 'no' })],
    ['an answer signed by another key', 'forged', async (env: Awaited<ReturnType<typeof setup>>, nonce: string) => {
      const forged = await signHostCsr(env.cp.ca, (await requestOf(env, env.host.keyPem)).csr, HOST, { validityMs: HOUR });
      await answer(env, { nonce, ok: true, certificate: forged.certPem }, createObjectSigner('cp', env.host.keyPem));
    }],
    ['a certificate for another key', 'wrong key', async (env: Awaited<ReturnType<typeof setup>>, nonce: string) => {
      const other = await signHostCsr(env.cp.ca, env.host.csrPem, HOST, { validityMs: HOUR });
      await answer(env, { nonce, ok: true, certificate: other.certPem });
    }],
  ])('keeps the current identity on %s, and asks again after a backoff', async (_label, _kind, write) => {
    const env = await setup();
    env.clock.at = env.dueAt;
    await env.renewer.poll();
    const first = env.renewer.pending() as string;
    await write(env, first);
    await env.renewer.poll();
    expect(env.renewed).toEqual([]);
    expect(loadIdentity(env.stateDir)).toMatchObject({ certPem: env.identity.certPem, keyPem: env.identity.keyPem });
    expect(env.renewer.pending()).toBeUndefined();
    expect(await env.bucket.get(env.cp.layout.renewAnswer(HOST, first), 1 << 20)).toBeUndefined();
    // Not at once: after the backoff (a tenth of the certificate's lifetime, ~6.5 min here).
    await env.renewer.poll();
    expect(env.renewer.pending()).toBeUndefined();
    env.clock.at += HOUR / 20;
    await env.renewer.poll();
    expect(env.renewer.pending()).toBeUndefined();
    env.clock.at += HOUR / 20 + 60_000;
    await env.renewer.poll();
    expect(env.renewer.pending()).toMatch(/^[0-9a-f]{32}$/);
    expect(env.renewer.pending()).not.toBe(first);
  });

  it('asks again when no answer came within the request\'s hour', async () => {
    const env = await setup();
    env.clock.at = env.dueAt;
    await env.renewer.poll();
    const first = env.renewer.pending();
    env.clock.at += HOUR + 1;
    await env.renewer.poll();
    expect(env.renewer.pending()).toBeUndefined();
    expect(env.log.lines().some((l) => l['msg'] === 'no answer to the certificate renewal; retrying later')).toBe(true);
    await env.renewer.poll();
    expect(env.renewer.pending()).toBeUndefined();
    env.clock.at += HOUR / 10 + 60_000;
    await env.renewer.poll();
    expect(env.renewer.pending()).toMatch(/^[0-9a-f]{32}$/);
    expect(env.renewer.pending()).not.toBe(first);
  });
});
