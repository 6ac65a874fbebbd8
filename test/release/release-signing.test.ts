import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OkesuError } from '../../src/errors.js';
import { RELEASE_MANIFEST_SCHEMA, releasePublicKeySchema, type SignedRelease } from '../../src/protocol/release.js';
import { generateReleaseKey, loadReleasePrivateKey, releaseKeyId, signRelease, verifyRelease } from '../../src/release/release-signing.js';

const key = generateReleaseKey();
const other = generateReleaseKey();
const fields = { version: '1.4.0', platform: 'linux-x64', sha256: 'ab'.repeat(32), size: 90_000_000 };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(OkesuError);
    return (err as OkesuError).code;
  }
}

describe('release keys', () => {
  it('generates an ed25519 key whose public text, id and PEM agree', () => {
    expect(releasePublicKeySchema.safeParse(key.publicKey).success).toBe(true);
    expect(key.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(releaseKeyId(key.publicKey)).toBe(key.keyId);
    const loaded = loadReleasePrivateKey(key.privateKeyPem);
    expect(loaded.publicKey).toBe(key.publicKey);
    expect(loaded.keyId).toBe(key.keyId);
    expect(other.keyId).not.toBe(key.keyId);
  });

  it('refuses a private key that is not PEM or not ed25519', () => {
    expect(codeOf(() => loadReleasePrivateKey('not a key'))).toBe('OKS_ERR_RELEASE_KEY');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadReleasePrivateKey(ec)).toThrow(/not ed25519/);
  });

  it('refuses a public key text of the wrong form', () => {
    for (const text of ['', 'ed25519:', 'rsa:AAAA', `ed25519:${'A'.repeat(42)}=`]) expect(codeOf(() => releaseKeyId(text))).toBe('OKS_ERR_RELEASE_KEY');
  });
});

describe('signRelease / verifyRelease', () => {
  const signed = signRelease(key.privateKeyPem, { ...fields, created_at: 5 });

  it('round-trips: the manifest comes back as signed', () => {
    expect(verifyRelease(signed, [key.publicKey])).toEqual({ schema: RELEASE_MANIFEST_SCHEMA, ...fields, created_at: 5 });
    expect(verifyRelease(signed, [other.publicKey, key.publicKey]).version).toBe('1.4.0');
    expect(signed.key_id).toBe(key.keyId);
  });

  it('refuses a release whose manifest was changed after signing', () => {
    for (const manifest of [signed.manifest.replace('1.4.0', '1.4.1'), signed.manifest.replace('90000000', '90000001'), `${signed.manifest} `]) {
      expect(codeOf(() => verifyRelease({ ...signed, manifest }, [key.publicKey]))).toBe('OKS_ERR_RELEASE_UNTRUSTED');
    }
  });

  it('refuses a release signed by another key, naming the keys', () => {
    const byOther = signRelease(other.privateKeyPem, fields);
    expect(() => verifyRelease(byOther, [key.publicKey])).toThrow(new RegExp(`${other.keyId}.*trusted: ${key.keyId}`));
    expect(() => verifyRelease(byOther, [])).toThrow(/none is configured/);
    // Another key's signature under this key's id: the id matches, the signature does not.
    expect(codeOf(() => verifyRelease({ ...byOther, key_id: key.keyId }, [key.publicKey]))).toBe('OKS_ERR_RELEASE_UNTRUSTED');
  });

  it('refuses malformed envelopes with OKS_ERR_RELEASE_INVALID', () => {
    const bad: unknown[] = [null, 'text', 42, [], {}, { ...signed, extra: 1 }, { ...signed, signature: 'short' }, { ...signed, key_id: 'XYZ' }, { manifest: signed.manifest }];
    for (const value of bad) expect(codeOf(() => verifyRelease(value, [key.publicKey]))).toBe('OKS_ERR_RELEASE_INVALID');
  });

  it('refuses a well-signed text that is not a manifest', async () => {
    const { sign, createPrivateKey } = await import('node:crypto');
    const sk = createPrivateKey(key.privateKeyPem);
    const signText = (manifest: string): SignedRelease => ({ manifest, signature: sign(null, Buffer.from(manifest), sk).toString('base64'), key_id: key.keyId });
    expect(codeOf(() => verifyRelease(signText('{not json'), [key.publicKey]))).toBe('OKS_ERR_RELEASE_INVALID');
    expect(codeOf(() => verifyRelease(signText(JSON.stringify({ schema: 'okesu-release/2', ...fields, created_at: 1 })), [key.publicKey]))).toBe('OKS_ERR_RELEASE_INVALID');
  });

  it('will not sign a manifest that is not valid', () => {
    expect(() => signRelease(key.privateKeyPem, { ...fields, version: 'v1' })).toThrow();
    expect(() => signRelease(key.privateKeyPem, { ...fields, sha256: 'AB' })).toThrow();
  });
});
