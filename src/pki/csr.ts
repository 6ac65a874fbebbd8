import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { OkesuError } from '../errors.js';
import { DerError, TAG, children, contextTag, expectElement, oidToString, type DerElement } from './der.js';
import { decodePem } from './pem.js';

/** What the CP takes from a verified CSR: only the public key (it binds its own subject and extensions). */
export interface VerifiedCsr {
  /** The SubjectPublicKeyInfo, DER, exactly as the CSR carried it. */
  spkiDer: Buffer;
  /** The subject's commonName values (a renewal checks them against the tunnel's own hostname). */
  commonNames: string[];
}

const COMMON_NAME = '2.5.4.3';
const STRING_TAGS: ReadonlySet<number> = new Set([TAG.UTF8_STRING, TAG.PRINTABLE_STRING, TAG.IA5_STRING]);

// Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }: the text of every commonName.
function commonNamesOf(subject: DerElement): string[] {
  const out: string[] = [];
  for (const rdn of children(subject.value)) {
    if (rdn.tag !== TAG.SET) throw new DerError('malformed subject');
    for (const atv of children(rdn.value)) {
      const [type, value] = children(atv.value);
      if (atv.tag !== TAG.SEQUENCE || !type || !value || type.tag !== TAG.OID) throw new DerError('malformed subject attribute');
      if (oidToString(type.value) !== COMMON_NAME) continue;
      if (!STRING_TAGS.has(value.tag)) throw new DerError('commonName is not a string');
      out.push(value.value.toString('utf8'));
    }
  }
  return out;
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
  subject: DerElement;
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
  return { info, subject, spki, signatureOid: oidToString(algOid.value), signature: signature.value.subarray(1) };
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
  let commonNames: string[];
  try {
    commonNames = commonNamesOf(csr.subject);
  } catch {
    throw csrInvalid('the subject is not a well-formed Name');
  }
  return { spkiDer: Buffer.from(csr.spki.raw), commonNames };
}
