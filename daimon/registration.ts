import https from 'node:https';
import { arch, hostname as osHostname, platform } from 'node:os';
import { z } from 'zod';
import { OkesuError, isErrorCode } from '../src/errors.js';
import { caFingerprint } from '../src/pki/ca-fingerprint.js';
import { registerResponseSchema } from '../src/protocol/api.js';
import type { RegisterRequest } from '../src/protocol/api.js';
import { describeIssues } from '../src/protocol/event.js';
import { parseToken } from '../src/protocol/tokens.js';
import type { DaimonIdentity } from './identity.js';
import { loadIdentity, saveIdentity } from './identity.js';
import type { Logger } from './provider.js';
import type { BucketRegisterOptions } from './jobs/bucket-registration.js';

/** What a first registration needs. */
export interface RegisterOptions {
  /** The CP's base URL, `https://host:port`. */
  cp: string;
  /** Join token `okj_<id>_<secret>_<pin>`. */
  token: string;
  /** Hostname to register (default: os.hostname()). */
  hostname?: string;
  labels?: Record<string, string>;
  version: string;
  timeoutMs?: number;
}

const MAX_BODY_BYTES = 1024 * 1024;
const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** An OkesuError carrying the CP's own code and message (the message is the CP's, not the catalogue's plus a detail). */
export function errorFromBody(status: number, text: string): OkesuError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = errorBodySchema.safeParse(json);
  if (!parsed.success) return new OkesuError('OKS_ERR_INTERNAL', `the CP answered HTTP ${status}: ${text.slice(0, 200)}`);
  const { code, message } = parsed.data.error;
  if (!isErrorCode(code)) return new OkesuError('OKS_ERR_INTERNAL', `the CP answered ${code}: ${message}`);
  const err = new OkesuError(code);
  err.message = message;
  return err;
}

/** Parses and checks the CP URL: https only, no path. */
export function parseCpUrl(cp: string): URL {
  let url: URL;
  try {
    url = new URL(cp);
  } catch {
    throw new OkesuError('OKS_ERR_CONFIG', `--cp must be a URL like https://cp.example:8443, got ${JSON.stringify(cp)}`);
  }
  if (url.protocol !== 'https:') throw new OkesuError('OKS_ERR_CONFIG', `--cp must be an https:// URL, got ${JSON.stringify(cp)}`);
  return url;
}

interface Answer {
  status: number;
  body: string;
}

/** One HTTPS request; `ca` undefined means "trust nothing yet" (no verification at all, only for fetching the CA). */
function request(url: URL, opts: { method: 'GET' | 'POST'; ca?: string; body?: unknown; timeoutMs: number }): Promise<Answer> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise<Answer>((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: opts.method,
        agent: false,
        ...(opts.ca === undefined ? { rejectUnauthorized: false } : { ca: opts.ca, rejectUnauthorized: true }),
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: opts.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) req.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(new OkesuError('OKS_ERR_CP_UNREACHABLE', `${opts.method} ${url.href}: ${err.code ? `${err.code} ` : ''}${err.message}`)),
    );
    req.end(payload);
  });
}

/** Fetches the CP's CA over unverified TLS and accepts it only if its fingerprint equals the join token's pin. */
export async function fetchPinnedCa(cp: URL, pin: string, timeoutMs = 15_000): Promise<string> {
  const answer = await request(new URL('/v1/ca', cp), { method: 'GET', timeoutMs });
  if (answer.status !== 200) throw errorFromBody(answer.status, answer.body);
  let fingerprint: string;
  try {
    fingerprint = caFingerprint(answer.body);
  } catch {
    throw new OkesuError('OKS_ERR_CA_PIN_MISMATCH', `${cp.origin}/v1/ca did not answer with a certificate`);
  }
  if (fingerprint !== pin) {
    throw new OkesuError('OKS_ERR_CA_PIN_MISMATCH', `${cp.origin} presents CA ${fingerprint}, the token pins ${pin}; refusing to register`);
  }
  return answer.body;
}

/**
 * Registers this host with the CP (SPEC §2.2): pins the CA from the token, then sends a fresh key's CSR and the
 * host's facts over TLS verified against that CA. A refusal becomes an OkesuError with the CP's code and message.
 */
export async function registerDaimon(opts: RegisterOptions): Promise<DaimonIdentity> {
  const token = parseToken(opts.token, 'join');
  if (!token?.pin) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'expected a join token (okj_<id>_<secret>_<pin>)');
  const cp = parseCpUrl(opts.cp);
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const caPem = await fetchPinnedCa(cp, token.pin, timeoutMs);

  const hostname = opts.hostname ?? osHostname();
  // Loaded only here: the X.509 toolkit is needed once per host lifetime, not in the running daimon's memory.
  const { generateHostKeyAndCsr } = await import('../src/pki/host-key.js');
  const { keyPem, csrPem } = await generateHostKeyAndCsr(hostname);
  const body: RegisterRequest = {
    token: opts.token.trim(), csr: csrPem, hostname, os: platform(), arch: arch(), version: opts.version, labels: opts.labels ?? {},
  };
  const answer = await request(new URL('/v1/register', cp), { method: 'POST', ca: caPem, body, timeoutMs });
  if (answer.status < 200 || answer.status >= 300) throw errorFromBody(answer.status, answer.body);
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    json = undefined;
  }
  const parsed = registerResponseSchema.safeParse(json);
  if (!parsed.success) throw new OkesuError('OKS_ERR_INTERNAL', `the CP's registration answer is malformed: ${describeIssues(parsed.error)}`);
  return {
    cp: cp.origin, hostname: parsed.data.hostname, certPem: parsed.data.certificate, caPem, credential: parsed.data.credential, keyPem,
    registeredAt: Date.now(), ...(parsed.data.release_keys && { releaseKeys: parsed.data.release_keys }),
  };
}

/** Options of `ensureIdentity`: the state directory plus what registration needs when there is no identity yet. */
export interface EnsureIdentityOptions extends Omit<RegisterOptions, 'cp' | 'token'> {
  stateDir: string;
  cp?: string;
  token?: string;
  /** The jobs bucket: with no `cp`, a first registration goes through it (daimon/jobs/bucket-registration.ts). */
  bucket?: Pick<BucketRegisterOptions, 'bucket' | 'prefix' | 'url' | 'pollMs' | 'timeoutMs'>;
}

/**
 * The daimon's identity: the stored one (the token is then not needed, `cp` overrides the stored URL), or a fresh
 * registration with `token`, saved to the state directory before it is used.
 */
export async function ensureIdentity(opts: EnsureIdentityOptions, log: Logger): Promise<{ identity: DaimonIdentity; registered: boolean }> {
  const stored = loadIdentity(opts.stateDir);
  if (stored) {
    if (opts.token) log.info({ host: stored.hostname }, 'already registered; the join token is not needed and was not used');
    if (opts.hostname && opts.hostname !== stored.hostname) {
      log.warn({ host: stored.hostname, requested: opts.hostname }, 'the stored identity is bound to another hostname; keeping it');
    }
    return { identity: opts.cp ? { ...stored, cp: parseCpUrl(opts.cp).origin } : stored, registered: false };
  }
  if (!opts.cp && opts.bucket && opts.token) {
    const { registerThroughBucket } = await import('./jobs/bucket-registration.js');
    const identity = await registerThroughBucket({ ...opts.bucket, token: opts.token, hostname: opts.hostname, labels: opts.labels, version: opts.version }, { log });
    saveIdentity(opts.stateDir, identity);
    log.info({ host: identity.hostname, bucket: identity.cp, state: opts.stateDir }, 'registered with the control plane through the bucket');
    return { identity, registered: true };
  }
  if (!opts.cp || !opts.token) {
    throw new OkesuError('OKS_ERR_CONFIG', `no identity in ${opts.stateDir}; register first with --cp URL --token JOIN (or --bucket s3://BUCKET[/PREFIX] --token JOIN)`);
  }
  const identity = await registerDaimon({ ...opts, cp: opts.cp, token: opts.token });
  saveIdentity(opts.stateDir, identity);
  log.info({ host: identity.hostname, cp: identity.cp, state: opts.stateDir }, 'registered with the control plane');
  return { identity, registered: true };
}
