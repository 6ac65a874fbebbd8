import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { OkesuError } from '../src/errors.js';
import { readFileIfExists, writeFileAtomic } from '../src/files/atomic-write.js';
import { describeIssues } from '../src/protocol/event.js';
import { keyMatchesCert } from '../src/pki/cert-lifetime.js';
import { releasePublicKeySchema } from '../src/protocol/release.js';

/** What a registered daimon is: the CP it joined, its bound hostname, certificate, the CA it trusts, its credential and key. */
export interface DaimonIdentity {
  cp: string;
  hostname: string;
  /** Client certificate (PEM) the CP signed for this host. */
  certPem: string;
  /** The CP's CA certificate (PEM): the only issuer the daimon trusts for the CP. */
  caPem: string;
  /** Host credential `okh_…`, sent as a bearer token on the tunnel. */
  credential: string;
  /** The host's private key (PKCS#8 PEM); stored apart, in `key.pem`. */
  keyPem: string;
  registeredAt: number;
  /** Release public keys the CP named at registration (issue 15); a host policy's `release_keys` replaces them. */
  releaseKeys?: string[];
}

/** File name of the identity document in the state directory. */
export const IDENTITY_FILE = 'identity.json';
/** File name of the private key in the state directory. */
export const KEY_FILE = 'key.pem';
/** File name of a renewal's new private key until its certificate is stored (then it becomes `key.pem`). */
export const NEXT_KEY_FILE = 'key.next.pem';

const identityFileSchema = z.object({
  cp: z.string().min(1),
  hostname: z.string().min(1),
  certificate: z.string().includes('BEGIN CERTIFICATE'),
  ca: z.string().includes('BEGIN CERTIFICATE'),
  credential: z.string().regex(/^okh_/),
  registered_at: z.number(),
  release_keys: z.array(releasePublicKeySchema).max(16).optional(),
});

/** Reads the stored identity from `stateDir`; undefined when the daimon never registered; OKS_ERR_CONFIG when it is damaged. */
export function loadIdentity(stateDir: string): DaimonIdentity | undefined {
  const text = readFileIfExists(join(stateDir, IDENTITY_FILE));
  let keyPem = readFileIfExists(join(stateDir, KEY_FILE));
  // The key is written first: a key without a document is a registration cut short, and registering again replaces it.
  if (text === undefined) return undefined;
  if (keyPem === undefined) {
    throw new OkesuError('OKS_ERR_CONFIG', `${join(stateDir, IDENTITY_FILE)} exists but ${KEY_FILE} does not; remove ${IDENTITY_FILE}, then register again`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new OkesuError('OKS_ERR_CONFIG', `${join(stateDir, IDENTITY_FILE)} is not JSON: ${(err as Error).message}`);
  }
  const parsed = identityFileSchema.safeParse(json);
  if (!parsed.success) throw new OkesuError('OKS_ERR_CONFIG', `${join(stateDir, IDENTITY_FILE)}: ${describeIssues(parsed.error)}`);
  const d = parsed.data;
  keyPem = finishRenewal(stateDir, d.certificate) ?? keyPem;
  return {
    cp: d.cp, hostname: d.hostname, certPem: d.certificate, caPem: d.ca, credential: d.credential, keyPem, registeredAt: d.registered_at,
    ...(d.release_keys && { releaseKeys: d.release_keys }),
  };
}

/** Stores the identity in `stateDir`: the key first, then the document that makes it count, both 0600 and atomic. */
export function saveIdentity(stateDir: string, identity: DaimonIdentity): void {
  writeFileAtomic(join(stateDir, KEY_FILE), identity.keyPem, 0o600);
  writeDocument(stateDir, identity);
}

// identity.json: everything but the key, 0600, atomic.
function writeDocument(stateDir: string, identity: DaimonIdentity): void {
  const doc = {
    cp: identity.cp, hostname: identity.hostname, certificate: identity.certPem, ca: identity.caPem,
    credential: identity.credential, registered_at: identity.registeredAt, ...(identity.releaseKeys && { release_keys: identity.releaseKeys }),
  };
  writeFileAtomic(join(stateDir, IDENTITY_FILE), `${JSON.stringify(doc, null, 2)}\n`, 0o600);
}

// A renewal cut short between storing its certificate and its key: the staged key is the certificate's, so it becomes
// key.pem; a staged key that is not (the certificate never came) is dropped. Returns the key now in key.pem, if replaced.
function finishRenewal(stateDir: string, certPem: string): string | undefined {
  const nextPath = join(stateDir, NEXT_KEY_FILE);
  const next = readFileIfExists(nextPath);
  if (next === undefined) return undefined;
  const matches = keyMatchesCert(next, certPem);
  if (matches) writeFileAtomic(join(stateDir, KEY_FILE), next, 0o600);
  rmSync(nextPath, { force: true });
  return matches ? next : undefined;
}

/** Stages a renewal's new private key (0600, atomic) before its CSR is sent. */
export function stageNextKey(stateDir: string, keyPem: string): void {
  writeFileAtomic(join(stateDir, NEXT_KEY_FILE), keyPem, 0o600);
}

/**
 * Stores a renewed certificate for the staged key: the document first (with the new certificate), then the key, then
 * the staged copy is removed; a crash between the steps is finished by the next `loadIdentity`. Returns the new identity.
 */
export function saveRenewedIdentity(stateDir: string, identity: DaimonIdentity, certPem: string, keyPem: string): DaimonIdentity {
  const renewed = { ...identity, certPem, keyPem };
  writeDocument(stateDir, renewed);
  writeFileAtomic(join(stateDir, KEY_FILE), keyPem, 0o600);
  rmSync(join(stateDir, NEXT_KEY_FILE), { force: true });
  return renewed;
}
