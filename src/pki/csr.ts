import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { OkesuError } from '../errors.js';
import { DerError, TAG, children, contextTag, expectElement, oidToString, type DerElement } from './der.js';
import { decodePem } from './pem.js';

/** What the CP takes from a verified CSR: only the public key (it binds its own subject and extensions). */
export interface VerifiedCsr {
  /** The SubjectPublicKeyInfo, DER, exactly as the CSR carried it. */
  spkiDer: Buffer;
}

function csrInvalid(detail: string): OkesuError {
  return new OkesuError('OKS_ERR_CSR_INVALID', detail);
}

// Signature algorithms a CSR may use, by OID: the digest for crypto.verify (null for Ed25519).
const SIGNATURE_DIGESTS = new Map<string, string | null>([
  ['1.2.840.10045.4.3.2', 'sha256'],
  ['1.2.840.10045.4.3.3', 'sha384'],
  ['1.2.840.10045.4.3.4', 'sha512'],
  ['1.3.101.112', null],
]);
const ECDSA_WITH_SHA1 = '1.2.840.10045.4.1';

// Only EC P-256 and Ed25519 keys are accepted; returns the key or a description of anything else.
function publicKey(spki: Buffer): KeyObject | string {
  let key;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return 'public key cannot be parsed';
  }
  const type = key.asymmetricKeyType ?? 'unknown';
  if (type === 'ed25519') return key;
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return key;
  const curve = type === 'ec' ? ` on curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}` : '';
  return `public key must be EC P-256 or Ed25519, got ${type}${curve}`;
}

interface CsrParts {
  info: DerElement;
  spki: DerElement;
  signatureOid: string;
  signature: Buffer;
}

// CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
// CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name, subjectPKInfo, attributes [0] }
function parseCsr(der: Buffer): CsrParts {
  const top = children(expectElement(der, TAG.SEQUENCE, 'CertificationRequest').value);
  const [info, algorithm, signature] = top;
  if (top.length !== 3 || !info || !algorithm || !signature) throw new DerError('CertificationRequest must have 3 parts');
  if (info.tag !== TAG.SEQUENCE || algorithm.tag !== TAG.SEQUENCE || signature.tag !== TAG.BIT_STRING) throw new DerError('unexpected part');
  const fields = children(info.value);
  const [version, subject, spki, attributes] = fields;
  if (!version || !subject || !spki || version.tag !== TAG.INTEGER || subject.tag !== TAG.SEQUENCE || spki.tag !== TAG.SEQUENCE) {
    throw new DerError('malformed CertificationRequestInfo');
  }
  if (attributes && attributes.tag !== contextTag(0, true)) throw new DerError('malformed attributes');
  const [algOid] = children(algorithm.value);
  if (!algOid || algOid.tag !== TAG.OID) throw new DerError('malformed signature algorithm');
  if (signature.value.length < 2 || signature.value[0] !== 0) throw new DerError('malformed signature');
  return { info, spki, signatureOid: oidToString(algOid.value), signature: signature.value.subarray(1) };
}

/** Parses a PEM CSR and checks its key type (EC P-256 or Ed25519) and self-signature; throws OKS_ERR_CSR_INVALID saying what was wrong. */
export function parseAndVerifyCsr(csrPem: string): VerifiedCsr {
  const der = decodePem(csrPem, 'CERTIFICATE REQUEST');
  if (!der) throw csrInvalid('not a PEM "CERTIFICATE REQUEST" block');
  let csr: CsrParts;
  try {
    csr = parseCsr(der);
  } catch {
    throw csrInvalid('not a well-formed PKCS#10 request');
  }
  const key = publicKey(csr.spki.raw);
  if (typeof key === 'string') throw csrInvalid(key);
  if (csr.signatureOid === ECDSA_WITH_SHA1) throw csrInvalid('signed with SHA-1');
  const digest = SIGNATURE_DIGESTS.get(csr.signatureOid);
  if (digest === undefined) throw csrInvalid(`unsupported signature algorithm ${csr.signatureOid}`);
  if ((digest === null) !== (key.asymmetricKeyType === 'ed25519')) throw csrInvalid('signature algorithm does not match the key');
  let ok = false;
  try {
    ok = verify(digest, csr.info.raw, key, csr.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw csrInvalid('signature does not verify against its public key (no proof of possession)');
  return { spkiDer: Buffer.from(csr.spki.raw) };
}
