import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { OkesuError } from '../../errors.js';
import { parseToken } from '../../protocol/tokens.js';
import { hostnameFromPeerCertificate, serialFromPeerCertificate } from '../../pki/peer-identity.js';
import type { HostsRepo, HostRow } from '../store/hosts.js';
import { secretMatches } from '../secrets.js';
import { bearerToken } from '../http/operator-auth.js';

/**
 * Authenticates a daimon's tunnel upgrade: a client certificate from this CP's CA (mutual TLS), whose serial is the
 * live identity of its hostname, plus the host credential issued with it. A daimon can only speak for its own hostname.
 */
export function authenticateTunnel(req: IncomingMessage, hosts: HostsRepo): HostRow {
  const socket = req.socket as TLSSocket;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) throw new OkesuError('OKS_ERR_CLIENT_CERT_REQUIRED');
  if (!socket.authorized) throw new OkesuError('OKS_ERR_CLIENT_CERT_UNTRUSTED', String(socket.authorizationError ?? 'unknown reason'));
  const hostname = hostnameFromPeerCertificate(cert);
  const serial = serialFromPeerCertificate(cert);
  if (!hostname || !serial) throw new OkesuError('OKS_ERR_CLIENT_CERT_UNTRUSTED', 'the certificate carries no okesu host identity');

  const text = bearerToken(req);
  const parsed = text ? parseToken(text, 'host') : undefined;
  if (!parsed) throw new OkesuError('OKS_ERR_UNAUTHENTICATED', 'send Authorization: Bearer <host credential (okh_…)>');
  const owner = hosts.getByCredential(parsed.id);
  if (!owner || !secretMatches(parsed.secret, owner.credential_hash)) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'unknown host credential');
  if (owner.hostname !== hostname) {
    throw new OkesuError('OKS_ERR_HOST_MISMATCH', `the credential belongs to ${owner.hostname}, the certificate to ${hostname}`);
  }
  if (owner.revoked_at !== null || owner.cert_serial !== serial) throw new OkesuError('OKS_ERR_HOST_REVOKED', hostname);
  return owner;
}
