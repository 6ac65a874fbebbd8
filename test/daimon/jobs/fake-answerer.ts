import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import type { CaMaterial } from '../../../src/pki/ca.js';
import { parseAndVerifyCsr } from '../../../src/pki/csr.js';
import { signHostCsr } from '../../../src/pki/host-cert.js';
import { parseBucketKey } from '../../../src/protocol/bucket-layout.js';
import type { BucketLayout } from '../../../src/protocol/bucket-layout.js';
import { hostParty, regRequestBodySchema } from '../../../src/protocol/bucket-objects.js';
import type { RegAnswerBody } from '../../../src/protocol/bucket-objects.js';
import { formatToken } from '../../../src/protocol/tokens.js';
import { caFingerprint } from '../../../src/pki/ca-fingerprint.js';
import type { Bucket } from '../../../src/transport/bucket/bucket.js';
import { registrationProofMatches } from '../../../src/transport/bucket/registration-proof.js';
import { seal } from '../../../src/transport/bucket/seal.js';
import { createObjectSigner, encodeObject, readObject } from '../../../src/transport/bucket/signed-object.js';

/** How the fake CP answers: grant, refuse, or answer wrongly in one way. */
export type AnswerMode = 'grant' | 'refuse' | 'wrong-ca' | 'wrong-signature';

/** A join token pinning `ca`, and the hash of its secret as the CP stores it. */
export function joinToken(ca: CaMaterial): { token: string; id: string; secretHash: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('hex');
  return { token: formatToken({ kind: 'join', id, secret, pin: caFingerprint(ca.certPem) }), id, secretHash: createHash('sha256').update(secret).digest('hex') };
}

/**
 * A test-side CP that answers bucket registrations: it lists `reg/`, verifies each request (signature with the
 * CSR's key, the token proof), and writes an answer per `mode`. Returns the credentials it granted.
 */
export async function answerRegistrations(
  bucket: Bucket, layout: BucketLayout, ca: CaMaterial, secretHash: string, mode: AnswerMode, other?: CaMaterial,
): Promise<{ answered: number; credential?: string }> {
  let answered = 0;
  let credential: string | undefined;
  const page = await bucket.list(layout.registrations());
  for (const entry of page.entries) {
    const rel = layout.relative(entry.key) as string;
    const parsed = parseBucketKey(rel);
    if (parsed?.kind !== 'reg_req') continue;
    const got = await bucket.get(entry.key, 1 << 20);
    if (!got || got.tooLarge) continue;
    const body = regRequestBodySchema.parse(JSON.parse(got.body.toString('utf8').split('\n')[1] as string));
    const spki = createPublicKey({ key: parseAndVerifyCsr(body.csr).spkiDer, format: 'der', type: 'spki' });
    const read = readObject(got.body, { key: rel, kind: 'reg_req', to: 'cp', now: Date.now(), keysOf: () => [spki], from: (p) => p === hostParty(body.hostname) });
    if (!read.ok) throw new Error(`the daimon's request does not verify: ${read.reason}`);
    if (!registrationProofMatches(secretHash, body)) throw new Error('the proof does not match');
    let answer: RegAnswerBody;
    const answerCa = mode === 'wrong-ca' && other ? other : ca;
    if (mode === 'refuse') {
      answer = { ok: false, hostname: body.hostname, nonce: body.nonce, ca: ca.certPem, code: 'OKS_ERR_TOKEN_EXHAUSTED', message: 'join token has no uses left (test)' };
    } else {
      credential = `okh_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('hex')}`;
      const { certPem } = await signHostCsr(answerCa, body.csr, body.hostname);
      answer = { ok: true, hostname: body.hostname, nonce: body.nonce, certificate: certPem, ca: answerCa.certPem, credential: seal(spki, credential, 'okesu-bucket-register-v1') };
    }
    const signingKey = mode === 'wrong-signature' && other ? other.keyPem : answerCa.keyPem;
    const ansKey = layout.regAnswer(body.hostname, body.nonce);
    const at = Date.now();
    await bucket.put(ansKey, encodeObject({ kind: 'reg_ans', key: layout.relative(ansKey) as string, to: hostParty(body.hostname), issued_at: at, expires_at: at + 3_600_000 }, [answer], createObjectSigner('cp', signingKey)));
    await bucket.delete(entry.key);
    answered++;
  }
  return { answered, ...(credential !== undefined && { credential }) };
}
