import { X509Certificate, createHash } from 'node:crypto';

/**
 * The CA pin: base64url (no padding) SHA-256 of the certificate's DER, as carried in join tokens. Node's crypto only,
 * so a registered daimon never loads the X.509 toolkit.
 */
export function caFingerprint(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('base64url');
}
