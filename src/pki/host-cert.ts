import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { OkesuError } from '../errors.js';
import { hostnameSchema } from '../protocol/api.js';
import type { CaMaterial } from './ca.js';
import { randomSerial, validityMs } from './cert-fields.js';
import { parseAndVerifyCsr } from './csr.js';
import {
  TAG, bitString, boolean, children, contextTag, expectElement, octetString, oid, oidToString, sequence, set,
  smallInteger, tlv, unsignedInteger, utf8String, x509Time,
} from './der.js';
import { decodePem, encodePem } from './pem.js';
import { hostUri, normaliseSerial } from './peer-identity.js';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID = {
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** What signing needs from the CA, parsed once per CA. */
interface SigningCa {
  /** The CA's subject Name, DER, copied verbatim as the issuer of what it signs. */
  subject: Buffer;
  keyId: Buffer;
  key: KeyObject;
}

// A registration storm signs thousands of CSRs with one CA: parse it and import its key once.
const signingCas = new WeakMap<CaMaterial, SigningCa>();

function signingCa(ca: CaMaterial): SigningCa {
  const cached = signingCas.get(ca);
  if (cached) return cached;
  const der = decodePem(ca.certPem, 'CERTIFICATE');
  if (!der) throw new OkesuError('OKS_ERR_CONFIG', 'CA certificate is not PEM');
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
  const [tbs] = children(expectElement(der, TAG.SEQUENCE, 'CA certificate').value);
  if (!tbs) throw new OkesuError('OKS_ERR_CONFIG', 'CA certificate has no TBSCertificate');
  const fields = children(tbs.value);
  // With the [0] version: version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, …, [3] extensions.
  const base = fields[0]?.tag === contextTag(0, true) ? 1 : 0;
  const subject = fields[base + 4];
  const spki = fields[base + 5];
  if (!subject || !spki) throw new OkesuError('OKS_ERR_CONFIG', 'CA certificate is malformed');
  const loaded = { subject: Buffer.from(subject.raw), keyId: subjectKeyId(fields, spki.value), key: createPrivateKey(ca.keyPem) };
  signingCas.set(ca, loaded);
  return loaded;
}

// The CA's own SubjectKeyIdentifier, else RFC 5280 §4.2.1.2 method 1 (SHA-1 of the subjectPublicKey bits).
function subjectKeyId(tbsFields: ReturnType<typeof children>, spkiValue: Buffer): Buffer {
  const extensions = tbsFields.find((f) => f.tag === contextTag(3, true));
  if (extensions) {
    const [list] = children(extensions.value);
    for (const ext of list ? children(list.value) : []) {
      const parts = children(ext.value);
      if (parts[0] && oidToString(parts[0].value) === OID.subjectKeyIdentifier) {
        const value = parts[parts.length - 1];
        if (value) return Buffer.from(expectElement(value.value, TAG.OCTET_STRING, 'subjectKeyIdentifier').value);
      }
    }
  }
  const [, publicKeyBits] = children(spkiValue);
  return createHash('sha1').update(publicKeyBits ? publicKeyBits.value.subarray(1) : spkiValue).digest();
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/**
 * Signs a daimon's CSR as a client certificate for `hostname` after checking its self-signature: subject CN and
 * SAN DNS are the hostname, SAN URI is `spiffe://okesu/host/<hostname>`, clientAuth only; the CSR's own subject
 * and extensions are ignored. Valid 365 days by default (`validityMs` overrides `validityDays`). Throws
 * OKS_ERR_CSR_INVALID on a bad CSR.
 */
export async function signHostCsr(
  ca: CaMaterial,
  csrPem: string,
  hostname: string,
  opts: { validityDays?: number; validityMs?: number; now?: Date } = {},
): Promise<{ certPem: string; serial: string; notAfter: number }> {
  if (!hostnameSchema.safeParse(hostname).success) throw new OkesuError('OKS_ERR_BAD_REQUEST', `not a hostname: ${JSON.stringify(hostname)}`);
  const { spkiDer } = parseAndVerifyCsr(csrPem);
  const issuer = signingCa(ca);
  const serial = randomSerial();
  const { notBefore, notAfter } = validityMs(opts.now ?? new Date(), opts.validityMs ?? (opts.validityDays ?? 365) * 86_400_000);
  const algorithm = sequence(oid(ECDSA_WITH_SHA256));
  const subject = sequence(set(sequence(oid(OID.commonName), utf8String(hostname))));
  const names = sequence(tlv(contextTag(2, false), Buffer.from(hostname, 'ascii')), tlv(contextTag(6, false), Buffer.from(hostUri(hostname), 'ascii')));
  const tbs = sequence(
    tlv(contextTag(0, true), smallInteger(2)),
    unsignedInteger(Buffer.from(serial, 'hex')),
    algorithm,
    issuer.subject,
    sequence(x509Time(notBefore), x509Time(notAfter)),
    subject,
    spkiDer,
    tlv(contextTag(3, true), sequence(
      extension(OID.basicConstraints, true, sequence()),
      // digitalSignature only: bit 0 of a one-byte BIT STRING with 7 unused bits.
      extension(OID.keyUsage, true, tlv(TAG.BIT_STRING, Buffer.from([7, 0x80]))),
      extension(OID.extKeyUsage, false, sequence(oid(OID.clientAuth))),
      extension(OID.subjectAltName, false, names),
      extension(OID.authorityKeyIdentifier, false, sequence(tlv(contextTag(0, false), issuer.keyId))),
    )),
  );
  const certificate = sequence(tbs, algorithm, bitString(sign('sha256', tbs, issuer.key)));
  return { certPem: encodePem(certificate, 'CERTIFICATE'), serial: normaliseSerial(serial) ?? serial, notAfter: notAfter.getTime() };
}
