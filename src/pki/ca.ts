import type { webcrypto } from 'node:crypto';
import { OkesuError } from '../errors.js';
import { randomSerial, validity } from './cert-fields.js';
import { decodePem, encodePem } from './pem.js';
import { EC_P256, ECDSA_SHA256, subtle, x509 } from './x509-setup.js';

/** The CP's certificate authority: its self-signed certificate and PKCS#8 private key, both PEM. */
export interface CaMaterial {
  certPem: string;
  keyPem: string;
}

/** A certificate and its PKCS#8 private key, both PEM, ready for Node TLS `cert` and `key`. */
export interface CertAndKey {
  certPem: string;
  keyPem: string;
}

async function newKeyPair(): Promise<{ keys: webcrypto.CryptoKeyPair; keyPem: string }> {
  const keys = await subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  return { keys, keyPem: encodePem(await subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') };
}

async function loadCa(ca: CaMaterial): Promise<{ cert: x509.X509Certificate; signingKey: webcrypto.CryptoKey }> {
  const certDer = decodePem(ca.certPem, 'CERTIFICATE');
  const keyDer = decodePem(ca.keyPem, 'PRIVATE KEY');
  if (!certDer || !keyDer) throw new OkesuError('OKS_ERR_CONFIG', 'CA certificate or key is not PEM');
  const cert = new x509.X509Certificate(certDer);
  const signingKey = await subtle.importKey('pkcs8', keyDer, EC_P256, false, ['sign']);
  return { cert, signingKey };
}

async function authorityKeyId(caCert: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  return ski ? new x509.AuthorityKeyIdentifierExtension(ski.keyId) : x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey);
}

function leafExtensions(usage: x509.ExtendedKeyUsage, names: x509.JsonGeneralNames): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([usage], false),
    new x509.SubjectAlternativeNameExtension(names, false),
  ];
}

/** Creates a self-signed ECDSA P-256 CA (CA:true pathLen 0, keyCertSign|cRLSign), valid 10 years by default. */
export async function createCertificateAuthority(opts: { commonName: string; now?: Date; validityDays?: number }): Promise<CaMaterial> {
  const { keys, keyPem } = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [opts.commonName] }],
    ...validity(opts.now ?? new Date(), opts.validityDays ?? 3650),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: encodePem(cert.rawData, 'CERTIFICATE'), keyPem };
}

/** Issues the CP's TLS server certificate (serverAuth, SAN DNS + IP) from the CA, with a fresh key; 825 days by default. */
export async function issueServerCertificate(
  ca: CaMaterial,
  opts: { dnsNames: string[]; ipAddresses: string[]; validityDays?: number; now?: Date },
): Promise<CertAndKey> {
  const { cert: caCert, signingKey } = await loadCa(ca);
  const { keys, keyPem } = await newKeyPair();
  const names: x509.JsonGeneralNames = [
    ...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...opts.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [opts.dnsNames[0] ?? opts.ipAddresses[0] ?? 'okesu-cp'] }],
    issuer: caCert.subjectName,
    ...validity(opts.now ?? new Date(), opts.validityDays ?? 825),
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      ...leafExtensions(x509.ExtendedKeyUsage.serverAuth, names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await authorityKeyId(caCert),
    ],
  });
  return { certPem: encodePem(cert.rawData, 'CERTIFICATE'), keyPem };
}
