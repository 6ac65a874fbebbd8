import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import type { CertLifetime } from '../protocol/cert-expiry.js';

/** The validity window of a PEM certificate (Node's crypto only: the daimon never loads the X.509 toolkit). */
export function certLifetime(certPem: string): CertLifetime {
  const cert = new X509Certificate(certPem);
  return { notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
}

/** True when `keyPem` is the private key of `certPem`'s public key. */
export function keyMatchesCert(keyPem: string, certPem: string): boolean {
  try {
    const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    const fromCert = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
    return fromKey.equals(fromCert);
  } catch {
    return false;
  }
}
