import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { arch, hostname as osHostname, platform } from 'node:os';
import { OkesuError, isErrorCode } from '../../src/errors.js';
import { caFingerprint } from '../../src/pki/ca-fingerprint.js';
import { keyMatchesCert } from '../../src/pki/cert-lifetime.js';
import { bucketLayout } from '../../src/protocol/bucket-layout.js';
import { MAX_OBJECT_BYTES, hostParty, regAnswerBodySchema } from '../../src/protocol/bucket-objects.js';
import type { RegAnswerBody, RegRequestBody } from '../../src/protocol/bucket-objects.js';
import { describeIssues } from '../../src/protocol/event.js';
import { parseToken } from '../../src/protocol/tokens.js';
import type { Bucket } from '../../src/transport/bucket/bucket.js';
import { registrationProof } from '../../src/transport/bucket/registration-proof.js';
import { unseal } from '../../src/transport/bucket/seal.js';
import { createObjectSigner, encodeObject, readObject } from '../../src/transport/bucket/signed-object.js';
import type { DaimonIdentity } from '../identity.js';
import type { Logger } from '../provider.js';
import { HOST_OBJECT_TTL_MS } from './host-objects.js';

/** The info string the CP seals the host credential with (JOBS-DESIGN "Registration"). */
export const REGISTER_SEAL_INFO = 'okesu-bucket-register-v1';
/** How long a daimon waits for the CP's answer by default. */
export const DEFAULT_REGISTER_TIMEOUT_MS = 10 * 60_000;

/** What a registration through the bucket needs. */
export interface BucketRegisterOptions {
  bucket: Bucket;
  /** The bucket's key prefix ('' for its root). */
  prefix: string;
  /** `s3://bucket/prefix`: stored as the identity's `cp`, since this daimon has no CP URL. */
  url: string;
  /** Join token `okj_<id>_<secret>_<pin>`. */
  token: string;
  hostname?: string;
  labels?: Record<string, string>;
  version: string;
  /** Time between reads of the answer (default 10 s). */
  pollMs?: number;
  /** How long to wait for the answer (default 10 min). */
  timeoutMs?: number;
}

/**
 * Registers this host through the bucket (SPEC §3.2): a fresh key and CSR, a `reg_req` signed with that key and
 * proved by the join token (its secret never enters the bucket), then the CP's `reg_ans` read at the poll interval.
 * The answer counts only when its CA matches the token's pin and it is signed with that CA's key; the credential is
 * sealed to the CSR's key. A refusal becomes an OkesuError with the CP's code and message; an answer that fails a
 * check is logged and waited past until the timeout: a bucket writer can deny a registration (as it can delete any
 * object), never forge one. The caller saves the identity.
 */
export async function registerThroughBucket(opts: BucketRegisterOptions, deps: { log: Logger; now?: () => number; sleep?: (ms: number) => Promise<void> }): Promise<DaimonIdentity> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((res) => setTimeout(res, ms)));
  const token = parseToken(opts.token, 'join');
  if (!token?.pin) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'expected a join token (okj_<id>_<secret>_<pin>)');
  const hostname = opts.hostname ?? osHostname();
  const layout = bucketLayout(opts.prefix);
  const { generateHostKeyAndCsr } = await import('../../src/pki/host-key.js');
  const { keyPem, csrPem } = await generateHostKeyAndCsr(hostname);

  const nonce = randomBytes(16).toString('hex');
  const unproved: Omit<RegRequestBody, 'proof'> = {
    csr: csrPem, hostname, os: platform(), arch: arch(), version: opts.version, labels: opts.labels ?? {}, token_id: token.id, nonce,
  };
  const body: RegRequestBody = { ...unproved, proof: registrationProof(token.secret, unproved) };
  const reqKey = layout.regRequest(hostname, nonce);
  const at = now();
  const signer = createObjectSigner(hostParty(hostname), keyPem);
  await opts.bucket.put(reqKey, encodeObject({ kind: 'reg_req', key: layout.relative(reqKey) as string, to: 'cp', issued_at: at, expires_at: at + HOST_OBJECT_TTL_MS.reg_req }, [body], signer));
  deps.log.info({ bucket: opts.bucket.description, object: reqKey, host: hostname }, 'registration request written; waiting for the CP’s answer');

  const ansKey = layout.regAnswer(hostname, nonce);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REGISTER_TIMEOUT_MS;
  const deadline = now() + timeoutMs;
  let lastProblem: string | undefined;
  let refusedEtag: string | undefined;
  for (;;) {
    let got: Awaited<ReturnType<Bucket['get']>>;
    try {
      got = await opts.bucket.get(ansKey, MAX_OBJECT_BYTES);
    } catch (err) {
      lastProblem = `reading the answer failed: ${(err as Error).message}`;
      deps.log.warn({ object: ansKey, problem: lastProblem }, 'registration answer not readable yet');
      got = undefined;
    }
    if (got && !got.tooLarge && got.etag !== refusedEtag) {
      const checked = checkAnswer(got.body, { key: layout.relative(ansKey) as string, hostname, nonce, pin: token.pin, now: now() });
      if (checked.ok) {
        const identity = accept(checked.answer, { keyPem, hostname, url: opts.url, now: now() });
        await opts.bucket.delete(ansKey).catch((err: unknown) => deps.log.warn({ object: ansKey, err: (err as Error).message }, 'could not delete the registration answer; the CP removes it later'));
        return identity;
      }
      lastProblem = checked.reason;
      refusedEtag = got.etag;
      deps.log.warn({ object: ansKey, reason: checked.reason }, 'registration answer refused; still waiting for the CP’s own');
    } else if (got?.tooLarge) {
      lastProblem = `the answer is larger than ${MAX_OBJECT_BYTES} bytes`;
    }
    if (now() >= deadline) {
      throw new OkesuError(
        'OKS_ERR_CP_UNREACHABLE',
        `no registration answer in ${opts.bucket.description} within ${Math.round(timeoutMs / 1000)} s: the request is at ${reqKey}; is the CP serving this bucket (okesu cp serve --bucket)?${lastProblem ? ` Last problem: ${lastProblem}` : ''}`,
      );
    }
    await sleep(Math.min(opts.pollMs ?? 10_000, Math.max(0, deadline - now())));
  }
}

type Checked = { ok: true; answer: RegAnswerBody } | { ok: false; reason: string };

/** Verifies an answer: its CA against the pin, its signature with that CA's key, its body, and that it is ours. */
function checkAnswer(bytes: Buffer, want: { key: string; hostname: string; nonce: string; pin: string; now: number }): Checked {
  // The CA comes from the (not yet verified) body; the pin decides whether it is the one to verify with.
  const ca = unverifiedCa(bytes);
  if (ca === undefined) return { ok: false, reason: 'the answer names no CA certificate' };
  let caKey;
  try {
    if (caFingerprint(ca) !== want.pin) return { ok: false, reason: `the answer's CA is ${caFingerprint(ca)}, the join token pins ${want.pin}` };
    caKey = new X509Certificate(ca).publicKey;
  } catch {
    return { ok: false, reason: 'the answer\'s CA is not a certificate' };
  }
  const read = readObject(bytes, { key: want.key, kind: 'reg_ans', to: hostParty(want.hostname), now: want.now, keysOf: (p) => (p === 'cp' ? [caKey] : undefined), from: (p) => p === 'cp' });
  if (!read.ok) return { ok: false, reason: read.reason };
  const parsed = regAnswerBodySchema.safeParse(read.object.lines[0]);
  if (read.object.lines.length !== 1 || !parsed.success) return { ok: false, reason: `bad answer body${parsed.success ? '' : `: ${describeIssues(parsed.error)}`}` };
  if (parsed.data.nonce !== want.nonce || parsed.data.hostname !== want.hostname) return { ok: false, reason: 'the answer is for another request' };
  if (parsed.data.ca !== ca) return { ok: false, reason: 'the answer names two CAs' };
  return { ok: true, answer: parsed.data };
}

function unverifiedCa(bytes: Buffer): string | undefined {
  const lines = bytes.toString('utf8').split('\n');
  try {
    const body = JSON.parse(lines[1] ?? '') as { ca?: unknown };
    return typeof body.ca === 'string' ? body.ca : undefined;
  } catch {
    return undefined;
  }
}

/** A verified answer: the CP's refusal thrown as its error, or the identity it grants. */
function accept(answer: RegAnswerBody, ctx: { keyPem: string; hostname: string; url: string; now: number }): DaimonIdentity {
  if (!answer.ok) {
    if (!isErrorCode(answer.code)) throw new OkesuError('OKS_ERR_INTERNAL', `the CP answered ${answer.code}: ${answer.message}`);
    const err = new OkesuError(answer.code);
    err.message = answer.message;
    throw err;
  }
  let credential: string;
  try {
    credential = unseal(createPrivateKey(ctx.keyPem), answer.credential, REGISTER_SEAL_INFO);
  } catch {
    throw new OkesuError('OKS_ERR_INTERNAL', 'the registration answer\'s credential does not open with this host\'s key');
  }
  if (!/^okh_/.test(credential)) throw new OkesuError('OKS_ERR_INTERNAL', 'the registration answer\'s credential is not a host credential');
  if (!keyMatchesCert(ctx.keyPem, answer.certificate)) throw new OkesuError('OKS_ERR_INTERNAL', 'the registration answer\'s certificate is not for this host\'s key');
  return {
    cp: ctx.url, hostname: answer.hostname, certPem: answer.certificate, caPem: answer.ca, credential, keyPem: ctx.keyPem, registeredAt: ctx.now,
    // The CP's release keys, kept in identity.json as after an HTTP registration (a host policy's release_keys win).
    ...(answer.release_keys && { releaseKeys: answer.release_keys }),
  };
}
