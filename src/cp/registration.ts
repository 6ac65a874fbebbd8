import { OkesuError } from '../errors.js';
import { parseToken } from '../protocol/tokens.js';
import type { RegisterRequest, RegisterResponse } from '../protocol/api.js';
import { signHostCsr } from '../pki/host-cert.js';
import { parseAndVerifyCsr } from '../pki/csr.js';
import type { Store } from './store/store.js';
import type { TokenRow } from './store/tokens.js';
import type { CpIdentity } from './cp-state.js';
import { mintToken, secretMatches } from './secrets.js';

/** Lifetime of a host's client certificate unless `cp serve --host-cert-ttl` says otherwise: 365 days. */
export const DEFAULT_HOST_CERT_TTL_MS = 365 * 86_400_000;

/** A registration as both paths present it: the join token's id and how its secret was proved, the CSR and the facts. */
export interface RegistrationInput {
  tokenId: string;
  /** True when the caller proved the token (its secret over HTTPS, or the bucket request's proof) against its stored hash. */
  proves: (row: TokenRow) => boolean;
  facts: Omit<RegisterRequest, 'token'>;
  /** How the request came (recorded in the audit entry): `http` or `bucket`. */
  via: 'http' | 'bucket';
}

/**
 * Registers a host (SPEC §2.2): checks the join token (pin, expiry, uses), refuses a hostname bound to another
 * live identity, signs the CSR and mints the host credential. All store changes happen in one transaction.
 */
export async function registerHost(
  store: Store, identity: CpIdentity, req: RegisterRequest, now: number, certTtlMs: number = DEFAULT_HOST_CERT_TTL_MS, releaseKeys: readonly string[] = [],
): Promise<RegisterResponse> {
  const parsed = parseToken(req.token, 'join');
  if (!parsed) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'not a join token (okj_…)');
  if (parsed.pin !== identity.caPin) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'the token was issued by another CP (CA pin differs)');
  const { token: _token, ...facts } = req;
  return registerWithToken(store, identity, { tokenId: parsed.id, proves: (row) => secretMatches(parsed.secret, row.hash), facts, via: 'http' }, now, certTtlMs, releaseKeys);
}

/**
 * The checks and the store changes every registration shares (HTTP or bucket): the token is known, proved, live and
 * has a use left; the hostname is free; the CSR verifies. The host's public key (from the CSR) is stored with it.
 */
export async function registerWithToken(
  store: Store, identity: CpIdentity, input: RegistrationInput, now: number, certTtlMs: number = DEFAULT_HOST_CERT_TTL_MS,
  releaseKeys: readonly string[] = [],
): Promise<RegisterResponse> {
  const req = input.facts;
  const row = store.tokens.get(input.tokenId);
  if (!row || row.kind !== 'join' || !input.proves(row)) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'unknown join token');
  checkJoinToken(row, now);
  if (store.hosts.get(req.hostname)) throw new OkesuError('OKS_ERR_HOSTNAME_TAKEN', req.hostname);

  // The CSR is verified and signed before the transaction: signing is async and the transaction must not be.
  const { spkiDer } = parseAndVerifyCsr(req.csr);
  const { certPem, serial, notAfter } = await signHostCsr(identity.ca, req.csr, req.hostname, { validityMs: certTtlMs });
  const credential = mintToken('host');

  store.transaction(() => {
    const fresh = store.tokens.get(input.tokenId);
    if (!fresh) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'unknown join token');
    checkJoinToken(fresh, now);
    if (!store.tokens.consumeUse(input.tokenId)) throw new OkesuError('OKS_ERR_TOKEN_EXHAUSTED', 'it was already used');
    if (store.hosts.get(req.hostname)) throw new OkesuError('OKS_ERR_HOSTNAME_TAKEN', req.hostname);
    store.hosts.insert({
      hostname: req.hostname, cert_serial: serial, credential_id: credential.parsed.id, credential_hash: credential.hash,
      os: req.os, arch: req.arch, version: req.version, labels: req.labels, registered_at: now,
      cert_issued_at: notAfter - certTtlMs, cert_not_after: notAfter, public_key: spkiDer.toString('base64'),
      ...(input.via === 'bucket' && { transport: 'jobs' }),
    });
    store.audit.record(now, { name: `join:${input.tokenId}`, role: 'join' }, 'host.register', req.hostname, {
      serial, os: req.os, arch: req.arch, ...(input.via === 'bucket' && { via: 'bucket' }),
    });
  });
  // The release keys ride along so the host can verify upgrades (issue 15); none configured, none said.
  return {
    hostname: req.hostname, certificate: certPem, ca: identity.ca.certPem, credential: credential.text,
    ...(releaseKeys.length > 0 && { release_keys: [...releaseKeys] }),
  };
}

function checkJoinToken(row: { revoked_at: number | null; expires_at: number | null; uses_left: number | null }, now: number): void {
  if (row.revoked_at !== null) throw new OkesuError('OKS_ERR_TOKEN_REVOKED');
  if (row.expires_at !== null && row.expires_at <= now) throw new OkesuError('OKS_ERR_TOKEN_EXPIRED', `it expired at ${new Date(row.expires_at).toISOString()}`);
  if (row.uses_left !== null && row.uses_left <= 0) throw new OkesuError('OKS_ERR_TOKEN_EXHAUSTED', 'it was already used');
}
