import type { webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { OkesuError } from '../../src/errors.js';
import type { CaMaterial } from '../../src/pki/ca.js';
import { createCertificateAuthority } from '../../src/pki/ca.js';
import { signHostCsr } from '../../src/pki/host-cert.js';
import { decodePem, encodePem } from '../../src/pki/pem.js';
import { EC_P256, ECDSA_SHA256, subtle, x509 } from '../../src/pki/x509-setup.js';

type KeyPair = webcrypto.CryptoKeyPair;

async function csrDer(keys: KeyPair, signingAlgorithm: { name: string; hash?: string }, cn = 'alpha'): Promise<Buffer> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: [{ CN: [cn] }], keys, signingAlgorithm });
  return Buffer.from(csr.rawData);
}

function spki(der: Buffer): Buffer {
  return Buffer.from(new x509.Pkcs10CertificateRequest(der).publicKey.rawData);
}

function asPem(der: Buffer): string {
  return encodePem(der, 'CERTIFICATE REQUEST');
}

let ca: CaMaterial;
let good: Buffer;
let otherKeyCsr: Buffer;
let rsaCsr: Buffer;
let p384Csr: Buffer;
let sha1Csr: Buffer;

beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'csr test CA' });
  const ec = () => subtle.generateKey(EC_P256, true, ['sign', 'verify']) as Promise<KeyPair>;
  good = await csrDer(await ec(), ECDSA_SHA256);
  otherKeyCsr = await csrDer(await ec(), ECDSA_SHA256);
  const rsa = (await subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as KeyPair;
  rsaCsr = await csrDer(rsa, { name: 'RSASSA-PKCS1-v1_5' });
  const p384 = (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify'])) as KeyPair;
  p384Csr = await csrDer(p384, { name: 'ECDSA', hash: 'SHA-384' });
  sha1Csr = await csrDer(await ec(), { name: 'ECDSA', hash: 'SHA-1' });
});

// Each case builds a CSR PEM from the fixtures above, after they exist.
const cases: Array<[string, () => string, RegExp]> = [
  ['garbage text', () => 'hello, I am a CSR', /: not a PEM "CERTIFICATE REQUEST" block$/],
  ['a certificate instead of a CSR', () => ca.certPem, /not a PEM "CERTIFICATE REQUEST" block/],
  ['random bytes inside the PEM', () => asPem(Buffer.from('definitely not DER at all')), /: not a well-formed PKCS#10 request$/],
  ['a truncated CSR', () => asPem(good.subarray(0, good.length - 20)), /not a well-formed PKCS#10 request/],
  [
    'a flipped bit in the signature',
    () => {
      const der = Buffer.from(good);
      der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
      return asPem(der);
    },
    /: signature does not verify against its public key \(no proof of possession\)$/,
  ],
  [
    'another key swapped in after signing',
    () => {
      const der = Buffer.from(good);
      const at = der.indexOf(spki(good));
      if (at < 0) throw new Error('fixture: SPKI not found in CSR');
      spki(otherKeyCsr).copy(der, at);
      return asPem(der);
    },
    /signature does not verify/,
  ],
  [
    'the subject edited after signing',
    () => {
      const der = Buffer.from(good);
      const at = der.indexOf(Buffer.from('alpha'));
      if (at < 0) throw new Error('fixture: CN not found in CSR');
      Buffer.from('omega').copy(der, at);
      return asPem(der);
    },
    /signature does not verify/,
  ],
  ['an RSA key', () => asPem(rsaCsr), /: public key must be EC P-256 or Ed25519, got rsa$/],
  ['a P-384 key', () => asPem(p384Csr), /: public key must be EC P-256 or Ed25519, got ec on curve secp384r1$/],
  ['a SHA-1 signature', () => asPem(sha1Csr), /: signed with SHA-1$/],
];

describe('signHostCsr refuses bad CSRs', () => {
  it('accepts the untampered fixture (so the cases below fail for their own reason)', async () => {
    const { certPem } = await signHostCsr(ca, asPem(good), 'alpha');
    expect(decodePem(certPem, 'CERTIFICATE')).toBeDefined();
  });

  it.each(cases)('refuses %s with OKS_ERR_CSR_INVALID', async (_name, build, message) => {
    const err = await signHostCsr(ca, build(), 'alpha').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OkesuError);
    expect((err as OkesuError).code).toBe('OKS_ERR_CSR_INVALID');
    expect((err as OkesuError).status).toBe(400);
    expect((err as OkesuError).message).toMatch(/^certificate signing request is invalid: /);
    expect((err as OkesuError).message).toMatch(message);
  });
});
