import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { OkesuError } from '../../src/errors.js';
import type { CaMaterial } from '../../src/pki/ca.js';
import { createCertificateAuthority, issueServerCertificate } from '../../src/pki/ca.js';
import { signHostCsr } from '../../src/pki/host-cert.js';
import { caFingerprint } from '../../src/pki/ca-fingerprint.js';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import { decodePem, encodePem } from '../../src/pki/pem.js';
import { EC_P256, ECDSA_SHA256, subtle, x509 } from '../../src/pki/x509-setup.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const DAY = 86_400_000;
const SKEW = 5 * 60_000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function parsed(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

let ca: CaMaterial;
beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'Okesu test CA', now: NOW });
});

describe('createCertificateAuthority', () => {
  it('makes a self-signed P-256 CA limited to signing leaves, valid ten years', async () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.subject).toBe('CN=Okesu test CA');
    expect(cert.issuer).toBe('CN=Okesu test CA');
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(cert.validFrom).getTime()).toBe(NOW.getTime() - SKEW);
    expect(new Date(cert.validTo).getTime()).toBe(NOW.getTime() + 3650 * DAY);
    expect(cert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);

    const x = parsed(ca.certPem);
    const bc = x.getExtension(x509.BasicConstraintsExtension);
    expect([bc?.ca, bc?.pathLength, bc?.critical]).toEqual([true, 0, true]);
    const ku = x.getExtension(x509.KeyUsagesExtension);
    expect([ku?.usages, ku?.critical]).toEqual([x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true]);
    expect(x.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
  });

  it('exports the key as PKCS#8 PEM', () => {
    expect(ca.keyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(createPrivateKey(ca.keyPem).asymmetricKeyType).toBe('ec');
  });

  it('honours validityDays', async () => {
    const short = await createCertificateAuthority({ commonName: 'short', now: NOW, validityDays: 2 });
    expect(new Date(new X509Certificate(short.certPem).validTo).getTime()).toBe(NOW.getTime() + 2 * DAY);
  });
});

describe('issueServerCertificate', () => {
  it('issues a serverAuth leaf with DNS and IP SANs, chained by AKI to the CA', async () => {
    const server = await issueServerCertificate(ca, { dnsNames: ['localhost', 'cp.example'], ipAddresses: ['127.0.0.1'], now: NOW });
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(server.certPem);
    expect(cert.subject).toBe('CN=localhost');
    expect(cert.issuer).toBe('CN=Okesu test CA');
    expect(cert.subjectAltName).toBe('DNS:localhost, DNS:cp.example, IP Address:127.0.0.1');
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(server.keyPem))).toBe(true);
    expect(new Date(cert.validTo).getTime()).toBe(NOW.getTime() + 825 * DAY);
    const aki = parsed(server.certPem).getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
    expect(aki).toBe(parsed(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
  });
});

describe('signHostCsr', () => {
  it('binds the certificate to the given hostname, not the CSR’s subject or extensions', async () => {
    const keys = await subtle.generateKey(EC_P256, true, ['sign', 'verify']);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: [{ CN: ['evil.example'] }],
      keys,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://okesu/host/evil.example' }]),
        new x509.BasicConstraintsExtension(true),
      ],
    });
    const csrPem = encodePem(csr.rawData, 'CERTIFICATE REQUEST');
    const { certPem, serial } = await signHostCsr(ca, csrPem, 'web-01', { now: NOW });
    const cert = new X509Certificate(certPem);
    expect(cert.subject).toBe('CN=web-01');
    expect(cert.subjectAltName).toBe('DNS:web-01, URI:spiffe://okesu/host/web-01');
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(cert.ca).toBe(false);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(serial).toMatch(/^[0-9a-f]{32}$/);
    expect(cert.serialNumber.toLowerCase()).toBe(serial);
    expect(new Date(cert.validFrom).getTime()).toBe(NOW.getTime() - SKEW);
    expect(new Date(cert.validTo).getTime()).toBe(NOW.getTime() + 365 * DAY);
    // read back by an independent X.509 implementation: critical key usage and basic constraints, AKI = the CA's SKI
    const ku = parsed(certPem).getExtension(x509.KeyUsagesExtension);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(ku?.critical).toBe(true);
    const bc = parsed(certPem).getExtension(x509.BasicConstraintsExtension);
    expect(bc?.critical).toBe(true);
    expect(bc?.ca).toBe(false);
    expect(parsed(certPem).getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(parsed(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
    expect(parsed(certPem).issuer).toBe(parsed(ca.certPem).subject);
    // the certified key is the CSR's
    const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
    expect(spki.equals(Buffer.from(csr.publicKey.rawData))).toBe(true);
  });

  it('certifies the key from generateHostKeyAndCsr, with a fresh serial each time and custom validity', async () => {
    const host = await generateHostKeyAndCsr('db-02.internal');
    expect(host.csrPem.startsWith('-----BEGIN CERTIFICATE REQUEST-----\n')).toBe(true);
    const a = await signHostCsr(ca, host.csrPem, 'db-02.internal', { now: NOW, validityDays: 30 });
    const b = await signHostCsr(ca, host.csrPem, 'db-02.internal');
    expect(a.serial).not.toBe(b.serial);
    const cert = new X509Certificate(a.certPem);
    expect(cert.checkPrivateKey(createPrivateKey(host.keyPem))).toBe(true);
    expect(new Date(cert.validTo).getTime()).toBe(NOW.getTime() + 30 * DAY);
  });

  it('accepts an Ed25519 CSR', async () => {
    const keys = (await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=ed', keys, signingAlgorithm: { name: 'Ed25519' } });
    const { certPem } = await signHostCsr(ca, encodePem(csr.rawData, 'CERTIFICATE REQUEST'), 'ed-host');
    expect(new X509Certificate(certPem).publicKey.asymmetricKeyType).toBe('ed25519');
  });

  it('refuses a hostname that is not one', async () => {
    const host = await generateHostKeyAndCsr('x');
    const err = await signHostCsr(ca, host.csrPem, 'a/b').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OkesuError);
    expect((err as OkesuError).code).toBe('OKS_ERR_BAD_REQUEST');
  });
});

describe('caFingerprint', () => {
  it('is the unpadded base64url SHA-256 of the DER, stable, and distinct per CA', async () => {
    const der = decodePem(ca.certPem, 'CERTIFICATE');
    expect(der).toBeDefined();
    const expected = createHash('sha256').update(der as Buffer).digest('base64url');
    const fp = caFingerprint(ca.certPem);
    expect(fp).toBe(expected);
    expect(fp).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(caFingerprint(ca.certPem.replace(/\n/g, '\r\n'))).toBe(fp);
    const other = await createCertificateAuthority({ commonName: 'Okesu test CA', now: NOW });
    expect(caFingerprint(other.certPem)).not.toBe(fp);
  });
});
