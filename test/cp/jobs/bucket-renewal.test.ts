import { createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { generateHostKeyAndCsr } from '../../../src/pki/host-key.js';
import { keyMatchesCert } from '../../../src/pki/cert-lifetime.js';
import { hostParty, renewAnswerBodySchema, type RenewAnswerBody } from '../../../src/protocol/bucket-objects.js';
import { parseBucketKey } from '../../../src/protocol/bucket-layout.js';
import { createObjectSigner, readObject } from '../../../src/transport/bucket/signed-object.js';
import { publicKeyText } from '../../../src/cp/jobs/host-keys.js';
import { asTicks, findingRecord, runId } from '../cp-harness.js';
import { hostWriter, keysUnder, quarantineNotes, startJobsCp, type JobsCp } from './jobs-helpers.js';

describe('certificate renewal through the bucket', () => {
  let env: JobsCp | undefined;
  afterEach(async () => {
    await env?.cp.close();
    env = undefined;
  });

  /** Writes a renewal request as a jobs-only daimon does: a CSR for a new key, signed with `signKey`. */
  const request = async (e: JobsCp, hostname: string, signKey: string, csrFor = hostname): Promise<{ nonce: string; keyPem: string; key: string }> => {
    const { keyPem, csrPem } = await generateHostKeyAndCsr(csrFor);
    const nonce = randomBytes(16).toString('hex');
    const key = e.layout.renewRequest(hostname, nonce);
    const w = hostWriter({ hostname, key: signKey }, e.layout);
    await e.bucket.put(key, w.obj('renew_req', key, [{ csr: csrPem, nonce }], createObjectSigner(hostParty(hostname), signKey), 3_600_000));
    return { nonce, keyPem, key };
  };

  /** Reads the answer as the daimon does: verified with the CA's key. */
  const answer = async (e: JobsCp, hostname: string, nonce: string): Promise<RenewAnswerBody> => {
    const key = e.layout.renewAnswer(hostname, nonce);
    const got = await e.bucket.get(key, 1 << 20);
    if (!got || got.tooLarge) throw new Error('no answer');
    const caKey = new X509Certificate(e.cp.caPem).publicKey;
    const read = readObject(got.body, {
      key: e.layout.relative(key) as string, kind: 'renew_ans', to: hostParty(hostname), now: Date.now(),
      from: (p) => p === 'cp', keysOf: (p) => (p === 'cp' ? [caKey] : undefined),
    });
    if (!read.ok) throw new Error(read.reason);
    return renewAnswerBodySchema.parse(read.object.lines[0]);
  };

  /** Writes an events object signed with `key` and scans: true when the CP ingested it. */
  const ingests = async (e: JobsCp, hostname: string, key: string): Promise<boolean> => {
    const w = hostWriter({ hostname, key }, e.layout);
    const run = runId();
    const k = w.eventsKey();
    await e.bucket.put(k, w.events(k, asTicks([findingRecord(run, 1)])));
    await e.scan();
    return (await e.cp.admin.getRun(run).catch(() => undefined))?.events === 2;
  };

  it('parses the renewal keys of the layout', () => {
    const nonce = 'ab'.repeat(16);
    expect(parseBucketKey(`reg/web-1/${nonce}.renew`)).toEqual({ kind: 'renew_req', host: 'web-1', nonce });
    expect(parseBucketKey(`reg/web-1/${nonce}.renewed`)).toEqual({ kind: 'renew_ans', host: 'web-1', nonce });
    expect(parseBucketKey(`reg/web-1/${nonce}.renewal`)).toBeUndefined();
  });

  it('answers a request signed with the host\'s key: a CA-signed certificate for the CSR\'s key; the old key stays as prev', async () => {
    env = await startJobsCp();
    const host = await env.cp.registerHost('batch-01');
    const st = env.cp.cp.store();
    const before = st.hosts.get('batch-01');
    const { nonce, keyPem, key } = await request(env, 'batch-01', host.key);
    const stored = await env.bucket.get(key, 1 << 20);
    if (!stored || stored.tooLarge) throw new Error('no request');
    const replay = stored.body;
    await env.scan();
    const ans = await answer(env, 'batch-01', nonce);
    if (!ans.ok) throw new Error(`refused: ${ans.code} ${ans.message}`);
    expect(ans.nonce).toBe(nonce);
    const cert = new X509Certificate(ans.certificate);
    expect(cert.verify(new X509Certificate(env.cp.caPem).publicKey)).toBe(true);
    expect(keyMatchesCert(keyPem, ans.certificate)).toBe(true);
    expect(cert.subjectAltName).toContain('batch-01');
    // The request is gone; the answer stays for the host to read.
    expect(await keysUnder(env.bucket, `${env.layout.root}reg/`)).toEqual([env.layout.renewAnswer('batch-01', nonce)]);
    expect(await env.bucket.get(key, 1 << 20)).toBeUndefined();
    const after = st.hosts.get('batch-01');
    expect(after).toMatchObject({
      cert_serial: cert.serialNumber.toLowerCase(), cert_serial_prev: before?.cert_serial,
      public_key: publicKeyText(createPublicKey(keyPem)), public_key_prev: before?.public_key,
    });
    expect(after?.cert_not_after).toBe(Date.parse(cert.validTo));
    const audit = (await env.cp.admin.audit(20)).find((e) => e.action === 'host.renew_cert');
    expect(audit).toMatchObject({ target: 'batch-01', actor: 'host:batch-01', detail: { via: 'bucket', previous: before?.cert_serial } });
    expect(env.cp.cp.bucketScanner()?.stats()).toMatchObject({ renewals: 1, refusedRenewals: 0 });
    // Objects signed with either key verify (the host cache sees the new key at once).
    expect(await ingests(env, 'batch-01', keyPem)).toBe(true);
    expect(await ingests(env, 'batch-01', host.key)).toBe(true);
    expect(await quarantineNotes(env.bucket, env.layout)).toEqual([]);
    // The same request replayed (within its hour, after it was answered and deleted): refused, nothing changes.
    await env.bucket.put(key, replay);
    await env.scan();
    expect(st.hosts.get('batch-01')).toEqual(after);
    expect((await quarantineNotes(env.bucket, env.layout)).map((n) => n.reason)).toEqual(['replayed: the host already holds a certificate for this CSR\'s key']);
  });

  it('quarantines a request signed by another key, and refuses (answered) a CSR for another hostname', async () => {
    env = await startJobsCp();
    const host = await env.cp.registerHost('batch-02');
    await env.cp.registerHost('batch-03');
    const st = env.cp.cp.store();
    const before = st.hosts.get('batch-02');
    const stranger = await generateHostKeyAndCsr('batch-02');
    const forged = await request(env, 'batch-02', stranger.keyPem);
    await env.scan();
    expect(await env.bucket.get(forged.key, 1 << 20)).toBeUndefined();
    expect(await env.bucket.get(env.layout.renewAnswer('batch-02', forged.nonce), 1 << 20)).toBeUndefined();
    const notes = await quarantineNotes(env.bucket, env.layout);
    expect(notes).toEqual([expect.objectContaining({ code: 'unverified', reason: 'signature does not verify with the key of host:batch-02' })]);
    // A CSR naming another host: signed right, so answered — with a refusal.
    const other = await request(env, 'batch-02', host.key, 'batch-03');
    await env.scan();
    expect(await answer(env, 'batch-02', other.nonce)).toMatchObject({ ok: false, code: 'OKS_ERR_CERT_RENEWAL', message: expect.stringMatching(/can only renew "batch-02"/) });
    expect(st.hosts.get('batch-02')).toMatchObject({ cert_serial: before?.cert_serial, public_key: before?.public_key });
    expect(env.cp.cp.bucketScanner()?.stats()).toMatchObject({ renewals: 0, refusedRenewals: 1 });
  });

  it('deletes renewal answers nobody collected after a day', async () => {
    let now = Date.now();
    env = await startJobsCp({ now: () => now });
    const host = await env.cp.registerHost('batch-05');
    const { nonce } = await request(env, 'batch-05', host.key);
    await env.scan();
    const ans = env.layout.renewAnswer('batch-05', nonce);
    expect(await keysUnder(env.bucket, env.layout.registrations())).toEqual([ans]);
    now += 23 * 3_600_000;
    await env.scan();
    expect(await keysUnder(env.bucket, env.layout.registrations())).toEqual([ans]);
    now += 2 * 3_600_000;
    await env.scan();
    expect(await keysUnder(env.bucket, env.layout.registrations())).toEqual([]);
  });

  it('a request signed with the replaced key (its answer was lost) renews from the replaced serial', async () => {
    env = await startJobsCp();
    const host = await env.cp.registerHost('batch-04');
    const st = env.cp.cp.store();
    const first = st.hosts.get('batch-04');
    const lost = await request(env, 'batch-04', host.key);
    await env.scan();
    expect((await answer(env, 'batch-04', lost.nonce)).ok).toBe(true);
    const again = await request(env, 'batch-04', host.key);
    await env.scan();
    const ans = await answer(env, 'batch-04', again.nonce);
    if (!ans.ok) throw new Error(`refused: ${ans.message}`);
    expect(st.hosts.get('batch-04')).toMatchObject({ cert_serial_prev: first?.cert_serial, public_key: publicKeyText(createPublicKey(again.keyPem)) });
    expect(await ingests(env, 'batch-04', again.keyPem)).toBe(true);
  });
});
