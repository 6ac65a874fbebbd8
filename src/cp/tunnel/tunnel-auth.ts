import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { OkesuError } from '../../errors.js';
import { parseToken } from '../../protocol/tokens.js';
import { hostnameFromPeerCertificate, serialFromPeerCertificate } from '../../pki/peer-identity.js';
import type { HostsRepo, HostRow } from '../store/hosts.js';
import { secretMatches } from '../secrets.js';
import { bearerToken } from '../http/operator-auth.js';

const REREGISTER = 'the host must register again with a new join token (okesu hosts rm <host>, then okesu daemon --join)';

/**
 * Authenticates a daimon's tunnel upgrade: a client certificate from this CP's CA (mutual TLS), whose serial is the
 * live identity of its hostname (or the one its last renewal replaced, until the new one is used), plus the host
 * credential issued with it. A daimon can only speak for its own hostname. The same checks run on a resumed TLS
 * session, which carries the certificate of the handshake it resumes; its expiry is checked here because OpenSSL
 * does not verify the certificate again on resumption.
 */
export function authenticateTunnel(req: IncomingMessage, hosts: HostsRepo, now: number = Date.now()): { host: HostRow; serial: string } {
  const socket = req.socket as TLSSocket;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) throw new OkesuError('OKS_ERR_CLIENT_CERT_REQUIRED');
  if (!socket.authorized) {
    const reason = String(socket.authorizationError ?? 'unknown reason');
    throw new OkesuError('OKS_ERR_CLIENT_CERT_UNTRUSTED', reason === 'CERT_HAS_EXPIRED' ? `the host certificate expired (${cert.valid_to}); ${REREGISTER}` : reason);
  }
  const notAfter = Date.parse(cert.valid_to);
  if (!(notAfter > now)) throw new OkesuError('OKS_ERR_CLIENT_CERT_UNTRUSTED', `the host certificate expired (${cert.valid_to}); ${REREGISTER}`);
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
  if (owner.revoked_at !== null) throw new OkesuError('OKS_ERR_HOST_REVOKED', hostname);
  if (owner.cert_serial === serial) {
    // The renewed certificate is in use: the one it replaced is refused from now on.
    if (owner.cert_serial_prev !== null) hosts.settleRenewal(owner.id, serial);
  } else if (owner.cert_serial_prev !== serial) {
    throw new OkesuError('OKS_ERR_HOST_REVOKED', hostname);
  }
  return { host: owner, serial };
}
