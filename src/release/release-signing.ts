import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { OkesuError } from '../errors.js';
import { describeIssues } from '../protocol/event.js';
import {
  RELEASE_MANIFEST_SCHEMA, releaseManifestSchema, releasePublicKeySchema, signedReleaseSchema,
  type ReleaseManifest, type SignedRelease,
} from '../protocol/release.js';

// The DER prefix of an ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A new release key pair: the private key as PKCS#8 PEM (keep it offline, 0600) and the public key as text. */
export function generateReleaseKey(): { privateKeyPem: string; publicKey: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const text = publicKeyText(publicKey);
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: text, keyId: releaseKeyId(text) };
}

/** `ed25519:<base64>` of a public key object. */
export function publicKeyText(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return `ed25519:${der.subarray(ED25519_SPKI_PREFIX.length).toString('base64')}`;
}

/** The key id of a public key text: 16 hex digits of SHA-256 over the raw key. */
export function releaseKeyId(publicKey: string): string {
  return createHash('sha256').update(rawKey(publicKey)).digest('hex').slice(0, 16);
}

function rawKey(publicKey: string): Buffer {
  const ok = releasePublicKeySchema.safeParse(publicKey.trim());
  if (!ok.success) throw new OkesuError('OKS_ERR_RELEASE_KEY', `not a release public key: ${describeIssues(ok.error)}`);
  return Buffer.from(ok.data.slice('ed25519:'.length), 'base64');
}

function publicKeyObject(publicKey: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, rawKey(publicKey)]), format: 'der', type: 'spki' });
}

/** Reads a PKCS#8 PEM release private key; throws OKS_ERR_RELEASE_KEY when it is not an ed25519 private key. */
export function loadReleasePrivateKey(pem: string): { key: KeyObject; publicKey: string; keyId: string } {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new OkesuError('OKS_ERR_RELEASE_KEY', 'the release key file is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new OkesuError('OKS_ERR_RELEASE_KEY', `the release key is ${key.asymmetricKeyType}, not ed25519`);
  const publicKey = publicKeyText(createPublicKey(key));
  return { key, publicKey, keyId: releaseKeyId(publicKey) };
}

/** Signs a manifest for `version` of an artifact with `sha256` and `size`. */
export function signRelease(privateKeyPem: string, fields: Omit<ReleaseManifest, 'schema' | 'created_at'> & { created_at?: number }): SignedRelease {
  const { key, keyId } = loadReleasePrivateKey(privateKeyPem);
  const manifest: ReleaseManifest = releaseManifestSchema.parse({ schema: RELEASE_MANIFEST_SCHEMA, created_at: Date.now(), ...fields });
  const text = JSON.stringify(manifest);
  return { manifest: text, signature: sign(null, Buffer.from(text, 'utf8'), key).toString('base64'), key_id: keyId };
}

/**
 * Verifies a signed release against the trusted public keys and returns its manifest. Throws OKS_ERR_RELEASE_UNTRUSTED
 * when no trusted key has its id or the signature does not verify, OKS_ERR_RELEASE_INVALID when it is malformed.
 */
export function verifyRelease(signed: unknown, trustedKeys: readonly string[]): ReleaseManifest {
  const envelope = signedReleaseSchema.safeParse(signed);
  if (!envelope.success) throw new OkesuError('OKS_ERR_RELEASE_INVALID', `signed release: ${describeIssues(envelope.error)}`);
  const key = trustedKeys.find((k) => releaseKeyId(k) === envelope.data.key_id);
  if (!key) {
    throw new OkesuError('OKS_ERR_RELEASE_UNTRUSTED', `signed by key ${envelope.data.key_id}, which is not a trusted release key${trustedKeys.length === 0 ? ' (none is configured)' : ` (trusted: ${trustedKeys.map(releaseKeyId).join(', ')})`}`);
  }
  const ok = verify(null, Buffer.from(envelope.data.manifest, 'utf8'), publicKeyObject(key), Buffer.from(envelope.data.signature, 'base64'));
  if (!ok) throw new OkesuError('OKS_ERR_RELEASE_UNTRUSTED', `the signature of key ${envelope.data.key_id} does not verify: the manifest was altered or signed by another key`);
  let json: unknown;
  try {
    json = JSON.parse(envelope.data.manifest);
  } catch {
    throw new OkesuError('OKS_ERR_RELEASE_INVALID', 'the signed manifest is not JSON');
  }
  const manifest = releaseManifestSchema.safeParse(json);
  if (!manifest.success) throw new OkesuError('OKS_ERR_RELEASE_INVALID', `release manifest: ${describeIssues(manifest.error)}`);
  return manifest.data;
}
