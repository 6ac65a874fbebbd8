import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { generateHostKeyAndCsr } from '../../../src/pki/host-key.js';
import { parseToken } from '../../../src/protocol/tokens.js';
import { hostParty, regAnswerBodySchema, type RegAnswerBody } from '../../../src/protocol/bucket-objects.js';
import { createObjectSigner, encodeObject, readObject } from '../../../src/transport/bucket/signed-object.js';
import { registrationProof } from '../../../src/transport/bucket/registration-proof.js';
import { unseal } from '../../../src/transport/bucket/seal.js';
import { REGISTER_SEAL_INFO } from '../../../src/cp/jobs/bucket-registration.js';
import { generateReleaseKey } from '../../../src/release/release-signing.js';
import { keysUnder, startJobsCp, type JobsCp } from './jobs-helpers.js';
import { createTestBucket, type TestBucket } from '../../support/s3.js';

describe('registration through the bucket', () => {
  let env: JobsCp | undefined;
  let tb: TestBucket | undefined;
  afterEach(async () => {
    await env?.cp.close();
    tb?.bucket.close();
    env = undefined;
    tb = undefined;
  });

  /** Writes a registration request as a joining daimon does; `secret` overrides the token's secret in the proof. */
  const request = async (e: JobsCp, hostname: string, token: string, secret?: string): Promise<{ nonce: string; keyPem: string }> => {
    const parsed = parseToken(token, 'join');
    if (!parsed) throw new Error('not a join token');
    const { keyPem, csrPem } = await generateHostKeyAndCsr(hostname);
    const nonce = randomBytes(16).toString('hex');
    const fields = { csr: csrPem, hostname, os: 'linux', arch: 'x64', version: 'test', labels: { role: 'batch' }, token_id: parsed.id, nonce };
    const body = { ...fields, proof: registrationProof(secret ?? parsed.secret, fields) };
    const key = e.layout.regRequest(hostname, nonce);
    const now = Date.now();
    const bytes = encodeObject({ kind: 'reg_req', key: e.layout.relative(key) as string, to: 'cp', issued_at: now, expires_at: now + 3_600_000 }, [body], createObjectSigner(hostParty(hostname), keyPem));
    await e.bucket.put(key, bytes);
    return { nonce, keyPem };
  };

  /** Reads the answer as the daimon does: verified with the CA's key (the one the token pins). */
  const answer = async (e: JobsCp, hostname: string, nonce: string): Promise<RegAnswerBody> => {
    const key = e.layout.regAnswer(hostname, nonce);
    const got = await e.bucket.get(key, 1 << 20);
    if (!got || got.tooLarge) throw new Error('no answer');
    const caKey = new X509Certificate(e.cp.caPem).publicKey;
    const read = readObject(got.body, {
      key: e.layout.relative(key) as string, kind: 'reg_ans', to: hostParty(hostname), now: Date.now(),
      from: (p) => p === 'cp', keysOf: (p) => (p === 'cp' ? [caKey] : undefined),
    });
    if (!read.ok) throw new Error(read.reason);
    return regAnswerBodySchema.parse(read.object.lines[0]);
  };

  it('registers a host: the answer verifies with the CA and its credential opens with the CSR\'s key', async () => {
    env = await startJobsCp();
    const { token } = await env.cp.mintJoin();
    const { nonce, keyPem } = await request(env, 'batch-01', token);
    await env.scan();
    const ans = await answer(env, 'batch-01', nonce);
    if (!ans.ok) throw new Error(`refused: ${ans.code} ${ans.message}`);
    expect(ans.ca).toBe(env.cp.caPem);
    const cert = new X509Certificate(ans.certificate);
    expect(cert.checkIssued(new X509Certificate(env.cp.caPem))).toBe(true);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(createPublicKey(keyPem).export({ type: 'spki', format: 'der' }));
    const credential = unseal(createPrivateKey(keyPem), ans.credential, REGISTER_SEAL_INFO);
    expect(credential).toMatch(/^okh_/);
    // The host exists with transport jobs, its key stored; the request is gone; the audit says how it came.
    const host = (await env.cp.admin.hosts()).find((h) => h.hostname === 'batch-01');
    expect(host).toMatchObject({ transport: 'jobs', labels: { role: 'batch' } });
    expect(await keysUnder(env.bucket, env.layout.registrations())).toEqual([env.layout.regAnswer('batch-01', nonce)]);
    const audit = (await env.cp.admin.audit(10)).find((a) => a.action === 'host.register' && a.target === 'batch-01');
    expect(audit?.detail).toMatchObject({ via: 'bucket' });
    // Not dispatched to before it is heard.
    const early = await env.cp.request('POST', '/v1/runs', { json: { host: 'batch-01', agent: 'edr', definition: 'name: edr\ndescription: t\nmodel: fake\nprompt: x\ntools: []\n' } });
    expect(early.text).toMatch(/batch-01 is not reachable: no tunnel connected; the host has not been heard from through the bucket yet/);
    // The credential works on the tunnel too.
    const tunnel = await env.cp.connectHost({ hostname: 'batch-01', key: keyPem, cert: ans.certificate, credential, ca: ans.ca });
    expect(tunnel.isOpen()).toBe(true);
  });

  it('tells the host the CP\'s release keys, as the HTTP registration does (issue 15)', async () => {
    const releaseKey = generateReleaseKey().publicKey;
    env = await startJobsCp({ options: { releaseKeys: [releaseKey] } });
    const { nonce } = await request(env, 'batch-02', (await env.cp.mintJoin()).token);
    await env.scan();
    expect(await answer(env, 'batch-02', nonce)).toMatchObject({ ok: true, release_keys: [releaseKey] });
  });

  it('refuses a bad proof, a used token and a taken hostname with an answer saying why', async () => {
    env = await startJobsCp();
    const { token } = await env.cp.mintJoin();
    const bad = await request(env, 'h-bad', token, 'f'.repeat(64));
    await env.scan();
    expect(await answer(env, 'h-bad', bad.nonce)).toMatchObject({ ok: false, code: 'OKS_ERR_TOKEN_INVALID' });

    const first = await request(env, 'h-first', token);
    await env.scan();
    expect(await answer(env, 'h-first', first.nonce)).toMatchObject({ ok: true });
    const again = await request(env, 'h-second', token);
    await env.scan();
    expect(await answer(env, 'h-second', again.nonce)).toMatchObject({ ok: false, code: 'OKS_ERR_TOKEN_EXHAUSTED' });

    const { token: fresh } = await env.cp.mintJoin();
    const taken = await request(env, 'h-first', fresh);
    await env.scan();
    expect(await answer(env, 'h-first', taken.nonce)).toMatchObject({ ok: false, code: 'OKS_ERR_HOSTNAME_TAKEN' });
    expect((await env.cp.admin.hosts()).map((h) => h.hostname)).toEqual(['h-first']);
  });

  it.each([['the memory bucket', false], ['radosgw', true]])('a replayed request cannot replace the answer already written (%s)', async (_name, real) => {
    if (real) {
      tb = await createTestBucket('cp-reg');
      env = await startJobsCp({ bucket: tb.bucket, options: { bucket: tb.location } });
    } else {
      env = await startJobsCp();
    }
    const { token } = await env.cp.mintJoin();
    const { nonce } = await request(env, 'h-once', token);
    const reqKey = env.layout.regRequest('h-once', nonce);
    const bytes = (await env.bucket.get(reqKey, 1 << 20)) as { body: Buffer };
    await env.scan();
    await env.bucket.put(reqKey, bytes.body);
    await env.scan();
    expect(await answer(env, 'h-once', nonce)).toMatchObject({ ok: true });
    expect(await keysUnder(env.bucket, env.layout.registrations())).toEqual([env.layout.regAnswer('h-once', nonce)]);
  });

  it('deletes answers nobody collected after a day', async () => {
    let now = Date.now();
    env = await startJobsCp({ now: () => now });
    const { token } = await env.cp.mintJoin();
    const { nonce } = await request(env, 'h-gone', token);
    await env.scan();
    const ans = env.layout.regAnswer('h-gone', nonce);
    expect(await keysUnder(env.bucket, env.layout.registrations())).toEqual([ans]);
    now += 23 * 3_600_000;
    await env.scan();
    expect(await keysUnder(env.bucket, env.layout.registrations())).toEqual([ans]);
    now += 2 * 3_600_000;
    await env.scan();
    expect(await keysUnder(env.bucket, env.layout.registrations())).toEqual([]);
  });
});
