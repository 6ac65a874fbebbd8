import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { registrationProofInput, type RegRequestBody } from '../../protocol/bucket-objects.js';

/**
 * The join token's proof in a bucket registration request: HMAC-SHA256 keyed with the SHA-256 (hex) of the token's
 * secret — the form the CP stores — so the CP can check it and the secret itself never enters the bucket.
 */
export function registrationProof(tokenSecret: string, body: Omit<RegRequestBody, 'proof'>): string {
  return proofWithHash(createHash('sha256').update(tokenSecret).digest('hex'), body);
}

/** Checks a proof against the stored hash of a join token's secret, in constant time. */
export function registrationProofMatches(secretHash: string, body: RegRequestBody): boolean {
  const want = Buffer.from(proofWithHash(secretHash, body), 'hex');
  const got = Buffer.from(body.proof, 'hex');
  return want.length === got.length && timingSafeEqual(want, got);
}

function proofWithHash(secretHash: string, body: Omit<RegRequestBody, 'proof'>): string {
  return createHmac('sha256', secretHash).update(registrationProofInput(body)).digest('hex');
}
