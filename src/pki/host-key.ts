import { encodePem } from './pem.js';
import { EC_P256, ECDSA_SHA256, subtle, x509 } from './x509-setup.js';

/** A daimon's private key (PKCS#8 PEM, usable as Node TLS `key`) and the CSR it sends to the CP. */
export interface HostKeyAndCsr {
  keyPem: string;
  csrPem: string;
}

/** Generates the daimon's ECDSA P-256 key pair and a CSR for `hostname`; the CP ignores the CSR's subject and binds its own. */
export async function generateHostKeyAndCsr(hostname: string): Promise<HostKeyAndCsr> {
  const keys = await subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [hostname] }],
    keys,
    signingAlgorithm: ECDSA_SHA256,
  });
  const pkcs8 = await subtle.exportKey('pkcs8', keys.privateKey);
  return {
    keyPem: encodePem(pkcs8, 'PRIVATE KEY'),
    csrPem: encodePem(csr.rawData, 'CERTIFICATE REQUEST'),
  };
}
