import { createPublicKey } from 'node:crypto';
import { OkesuError } from '../errors.js';
import { decodePem } from './pem.js';
import { x509 } from './x509-setup.js';

function csrInvalid(detail: string): OkesuError {
  return new OkesuError('OKS_ERR_CSR_INVALID', detail);
}

// Only EC P-256 and Ed25519 keys are accepted; returns a description of anything else.
function keyProblem(spki: ArrayBuffer): string | undefined {
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    return 'public key cannot be parsed';
  }
  const type = key.asymmetricKeyType ?? 'unknown';
  if (type === 'ed25519') return undefined;
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return undefined;
  const curve = type === 'ec' ? ` on curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}` : '';
  return `public key must be EC P-256 or Ed25519, got ${type}${curve}`;
}

/** Parses a PEM CSR and checks its key type (EC P-256 or Ed25519) and self-signature; throws OKS_ERR_CSR_INVALID saying what was wrong. */
export async function parseAndVerifyCsr(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  const der = decodePem(csrPem, 'CERTIFICATE REQUEST');
  if (!der) throw csrInvalid('not a PEM "CERTIFICATE REQUEST" block');
  let csr: x509.Pkcs10CertificateRequest;
  let spki: ArrayBuffer;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
    spki = csr.publicKey.rawData;
  } catch {
    throw csrInvalid('not a well-formed PKCS#10 request');
  }
  const problem = keyProblem(spki);
  if (problem) throw csrInvalid(problem);
  let ok = false;
  try {
    const alg = csr.signatureAlgorithm as { name?: string; hash?: { name?: string } };
    if (alg.name === 'ECDSA' && alg.hash?.name === 'SHA-1') throw csrInvalid('signed with SHA-1');
    ok = await csr.verify();
  } catch (err) {
    if (err instanceof OkesuError) throw err;
    ok = false;
  }
  if (!ok) throw csrInvalid('signature does not verify against its public key (no proof of possession)');
  return csr;
}
