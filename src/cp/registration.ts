import { OkesuError } from '../errors.js';
import { parseToken } from '../protocol/tokens.js';
import type { RegisterRequest, RegisterResponse } from '../protocol/api.js';
import { signHostCsr } from '../pki/host-cert.js';
import type { Store } from './store/store.js';
import type { CpIdentity } from './cp-state.js';
import { mintToken, secretMatches } from './secrets.js';

/** Lifetime of a host's client certificate unless `cp serve --host-cert-ttl` says otherwise: 365 days. */
export const DEFAULT_HOST_CERT_TTL_MS = 365 * 86_400_000;

/**
 * Registers a host (SPEC §2.2): checks the join token (pin, expiry, uses), refuses a hostname bound to another
 * live identity, signs the CSR and mints the host credential. All store changes happen in one transaction.
 */
export async function registerHost(
  store: Store, identity: CpIdentity, req: RegisterRequest, now: number, certTtlMs: number = DEFAULT_HOST_CERT_TTL_MS,
): Promise<RegisterResponse> {
  const parsed = parseToken(req.token, 'join');
  if (!parsed) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'not a join token (okj_…)');
  if (parsed.pin !== identity.caPin) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'the token was issued by another CP (CA pin differs)');
  const row = store.tokens.get(parsed.id);
  if (!row || row.kind !== 'join' || !secretMatches(parsed.secret, row.hash)) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'unknown join token');
  checkJoinToken(row, now);
  if (store.hosts.get(req.hostname)) throw new OkesuError('OKS_ERR_HOSTNAME_TAKEN', req.hostname);

  // The CSR is verified and signed before the transaction: signing is async and the transaction must not be.
  const { certPem, serial, notAfter } = await signHostCsr(identity.ca, req.csr, req.hostname, { validityMs: certTtlMs });
  const credential = mintToken('host');

  store.transaction(() => {
    const fresh = store.tokens.get(parsed.id);
    if (!fresh) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'unknown join token');
    checkJoinToken(fresh, now);
    if (!store.tokens.consumeUse(parsed.id)) throw new OkesuError('OKS_ERR_TOKEN_EXHAUSTED', 'it was already used');
    if (store.hosts.get(req.hostname)) throw new OkesuError('OKS_ERR_HOSTNAME_TAKEN', req.hostname);
    store.hosts.insert({
      hostname: req.hostname, cert_serial: serial, credential_id: credential.parsed.id, credential_hash: credential.hash,
      os: req.os, arch: req.arch, version: req.version, labels: req.labels, registered_at: now,
      cert_issued_at: notAfter - certTtlMs, cert_not_after: notAfter,
    });
    store.audit.record(now, { name: `join:${parsed.id}`, role: 'join' }, 'host.register', req.hostname, { serial, os: req.os, arch: req.arch });
  });
  return { hostname: req.hostname, certificate: certPem, ca: identity.ca.certPem, credential: credential.text };
}

function checkJoinToken(row: { revoked_at: number | null; expires_at: number | null; uses_left: number | null }, now: number): void {
  if (row.revoked_at !== null) throw new OkesuError('OKS_ERR_TOKEN_REVOKED');
  if (row.expires_at !== null && row.expires_at <= now) throw new OkesuError('OKS_ERR_TOKEN_EXPIRED', `it expired at ${new Date(row.expires_at).toISOString()}`);
  if (row.uses_left !== null && row.uses_left <= 0) throw new OkesuError('OKS_ERR_TOKEN_EXHAUSTED', 'it was already used');
}

