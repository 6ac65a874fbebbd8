import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';
import { hostParty, regAnswerBodySchema, regRequestBodySchema, type RegAnswerBody, type RegRequestBody } from '../../protocol/bucket-objects.js';
import type { BucketLayout } from '../../protocol/bucket-layout.js';
import type { Bucket } from '../../transport/bucket/bucket.js';
import { encodeObject, readObject, type ObjectSigner } from '../../transport/bucket/signed-object.js';
import { seal } from '../../transport/bucket/seal.js';
import { registrationProofMatches } from '../../transport/bucket/registration-proof.js';
import { parseAndVerifyCsr } from '../../pki/csr.js';
import { describeIssues } from '../../protocol/event.js';
import { isStoreFailure } from '../store/store-health.js';
import type { RegisterResponse } from '../../protocol/api.js';
import type { RegistrationInput } from '../registration.js';

/** The seal's info string for a registration answer's credential (docs/jobs-mode.md). */
export const REGISTER_SEAL_INFO = 'okesu-bucket-register-v1';
/** Lifetime of a registration answer. */
const ANSWER_TTL_MS = 3_600_000;

/** The outcome of a registration request: answered (ok or refused), or not a request the CP will act on (quarantine it). */
export type RegOutcome = { answered: true; ok: boolean } | { answered: false; reason: string };

/** The CP's side of `reg/<host>/<nonce>.req` (registering a host that reaches only the bucket). */
export interface BucketRegistration {
  /** Reads, verifies and answers one request object (already fetched). Throws only when the bucket or the store fails. */
  handle(key: string, host: string, nonce: string, bytes: Buffer): Promise<RegOutcome>;
}

/**
 * Handles `reg/<host>/<nonce>.req` (docs/jobs-mode.md): the request is signed with the key of the CSR it carries, and
 * proves the join token with an HMAC keyed by the token's stored hash. Its signature is checked with that CSR's key
 * (so the CSR is read before the signature, its own self-signature verified first); then the registration runs the
 * same checks as over HTTPS (expiry, uses, hostname taken) and the answer — the certificate and the credential sealed
 * to the CSR's key, or a refusal with its code — is written beside it, signed with the CA key. An answer already
 * there is never replaced (a replayed request cannot overwrite a host's certificate with a refusal).
 */
export function createBucketRegistration(deps: {
  bucket: Bucket;
  layout: BucketLayout;
  signer: ObjectSigner;
  caPem: string;
  register: (input: RegistrationInput) => Promise<RegisterResponse>;
  onRegistered?: (hostname: string) => void;
  now: () => number;
  log: Logger;
}): BucketRegistration {
  const answer = async (host: string, nonce: string, body: RegAnswerBody): Promise<void> => {
    const key = deps.layout.regAnswer(host, nonce);
    const now = deps.now();
    const bytes = encodeObject({ kind: 'reg_ans', key: deps.layout.relative(key) as string, to: hostParty(host), issued_at: now, expires_at: now + ANSWER_TTL_MS }, [regAnswerBodySchema.parse(body)], deps.signer);
    await deps.bucket.putIfAbsent(key, bytes);
  };

  return {
    async handle(key, host, nonce, bytes) {
      const relative = deps.layout.relative(key) as string;
      const unverified = firstBodyLine(bytes);
      const shape = regRequestBodySchema.safeParse(unverified);
      if (!shape.success) return { answered: false, reason: `bad registration request: ${describeIssues(shape.error)}` };
      let csrKey: KeyObject;
      try {
        csrKey = createPublicKey({ key: parseAndVerifyCsr(shape.data.csr).spkiDer, format: 'der', type: 'spki' });
      } catch (err) {
        return { answered: false, reason: `bad registration request: ${err instanceof OkesuError ? err.message : 'the CSR cannot be read'}` };
      }
      const read = readObject(bytes, {
        key: relative, kind: 'reg_req', to: 'cp', now: deps.now(),
        from: (party) => party === hostParty(host), keysOf: (party) => (party === hostParty(host) ? [csrKey] : undefined),
      });
      if (!read.ok) return { answered: false, reason: read.reason };
      const body = regRequestBodySchema.safeParse(read.object.lines[0]);
      if (!body.success || read.object.lines.length !== 1) return { answered: false, reason: 'bad registration request: expected one body line' };
      const req: RegRequestBody = body.data;
      if (req.hostname !== host || req.nonce !== nonce) return { answered: false, reason: `the request names ${req.hostname}/${req.nonce}, its key ${host}/${nonce}` };

      const { token_id: tokenId, nonce: _n, proof: _p, ...facts } = req;
      const log = deps.log.child({ host, token_id: tokenId });
      try {
        const res = await deps.register({ tokenId, proves: (row) => registrationProofMatches(row.hash, req), facts, via: 'bucket' });
        const credential = seal(csrKey, res.credential, REGISTER_SEAL_INFO);
        await answer(host, nonce, { ok: true, hostname: host, nonce, certificate: res.certificate, ca: res.ca, credential, ...(res.release_keys && { release_keys: res.release_keys }) });
        log.info('host registered through the bucket');
        deps.onRegistered?.(host);
        return { answered: true, ok: true };
      } catch (err) {
        if (isStoreFailure(err)) throw err;
        const refusal = err instanceof OkesuError ? err : new OkesuError('OKS_ERR_INTERNAL');
        if (!(err instanceof OkesuError)) log.error({ err }, 'bucket registration failed');
        else log.warn({ code: refusal.code, reason: refusal.message }, 'bucket registration refused');
        await answer(host, nonce, { ok: false, hostname: host, nonce, ca: deps.caPem, code: refusal.code, message: refusal.message.slice(0, 4096) });
        return { answered: true, ok: false };
      }
    },
  };
}

/** The first body line of an object, parsed as JSON, before any verification (only to find the CSR to verify with). */
function firstBodyLine(bytes: Buffer): unknown {
  const first = bytes.indexOf(0x0a);
  const second = first < 0 ? -1 : bytes.indexOf(0x0a, first + 1);
  if (second < 0) return undefined;
  try {
    return JSON.parse(bytes.subarray(first + 1, second).toString('utf8'));
  } catch {
    return undefined;
  }
}
