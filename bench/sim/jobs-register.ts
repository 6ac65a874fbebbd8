/**
 * Registration of a simulated host through the bucket (JOBS-DESIGN "Registration"), on the protocol's modules: a fresh
 * key and CSR, a `reg_req` signed with that key and proved by the join token, then the CP's `reg_ans` read every
 * `pollMs` until it verifies (CA against the token's pin, the CA's signature) and its credential unseals.
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { caFingerprint } from '../../src/pki/ca-fingerprint.js';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import type { BucketLayout } from '../../src/protocol/bucket-layout.js';
import { hostParty, MAX_OBJECT_BYTES, regAnswerBodySchema, type RegRequestBody } from '../../src/protocol/bucket-objects.js';
import { parseToken } from '../../src/protocol/tokens.js';
import type { Bucket } from '../../src/transport/bucket/bucket.js';
import { registrationProof } from '../../src/transport/bucket/registration-proof.js';
import { unseal } from '../../src/transport/bucket/seal.js';
import { createObjectSigner, encodeObject, readObject } from '../../src/transport/bucket/signed-object.js';

/** What a bucket registration gives the sim: its key and the CA the CP signed the answer with. */
export interface BucketIdentity {
  hostname: string;
  keyPem: string;
  caPem: string;
}

/** Registers `hostname` through the bucket with `joinToken`; throws on a refusal or after `timeoutMs`. */
export async function registerThroughBucket(bucket: Bucket, layout: BucketLayout, hostname: string, joinToken: string, pollMs: number, timeoutMs = 60_000): Promise<BucketIdentity> {
  const token = parseToken(joinToken, 'join');
  if (!token?.pin) throw new Error('expected a join token (okj_<id>_<secret>_<pin>)');
  const { keyPem, csrPem } = await generateHostKeyAndCsr(hostname);
  const nonce = randomBytes(16).toString('hex');
  const unproved: Omit<RegRequestBody, 'proof'> = { csr: csrPem, hostname, os: 'linux', arch: 'x64', version: 'bench', labels: {}, token_id: token.id, nonce };
  const reqKey = layout.regRequest(hostname, nonce);
  const at = Date.now();
  await bucket.put(reqKey, encodeObject(
    { kind: 'reg_req', key: layout.relative(reqKey) as string, to: 'cp', issued_at: at, expires_at: at + 3_600_000 },
    [{ ...unproved, proof: registrationProof(token.secret, unproved) }],
    createObjectSigner(hostParty(hostname), keyPem),
  ));
  const ansKey = layout.regAnswer(hostname, nonce);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await bucket.get(ansKey, MAX_OBJECT_BYTES);
    if (got && !got.tooLarge) {
      const ca = (JSON.parse(got.body.toString('utf8').split('\n')[1] ?? '{}') as { ca?: string }).ca ?? '';
      if (caFingerprint(ca) !== token.pin) throw new Error(`${hostname}: the answer's CA does not match the token's pin`);
      const caKey = new X509Certificate(ca).publicKey;
      const read = readObject(got.body, { key: layout.relative(ansKey) as string, kind: 'reg_ans', to: hostParty(hostname), now: Date.now(), from: (p) => p === 'cp', keysOf: (p) => (p === 'cp' ? [caKey] : undefined) });
      if (!read.ok) throw new Error(`${hostname}: answer refused: ${read.reason}`);
      const answer = regAnswerBodySchema.parse(read.object.lines[0]);
      if (!answer.ok) throw new Error(`${hostname}: the CP refused: ${answer.code} ${answer.message}`);
      if (!/^okh_/.test(unseal(createPrivateKey(keyPem), answer.credential, 'okesu-bucket-register-v1'))) throw new Error(`${hostname}: the sealed credential is not a host credential`);
      await bucket.delete(ansKey);
      return { hostname: answer.hostname, keyPem, caPem: ca };
    }
    if (Date.now() > deadline) throw new Error(`${hostname}: no registration answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
