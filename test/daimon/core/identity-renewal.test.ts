import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_FILE, KEY_FILE, NEXT_KEY_FILE, loadIdentity, saveIdentity, saveRenewedIdentity, stageNextKey, type DaimonIdentity } from '../../../daimon/identity.js';
import { createCertificateAuthority, type CaMaterial } from '../../../src/pki/ca.js';
import { signHostCsr } from '../../../src/pki/host-cert.js';
import { generateHostKeyAndCsr } from '../../../src/pki/host-key.js';
import { writeFileAtomic } from '../../../src/files/atomic-write.js';
import { tempDir } from './helpers.js';

let ca: CaMaterial;
let dir: string | undefined;
beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'test CA' });
});
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A key and a certificate for it, signed by the test CA. */
async function keyAndCert(hostname = 'web-01'): Promise<{ keyPem: string; certPem: string }> {
  const { keyPem, csrPem } = await generateHostKeyAndCsr(hostname);
  return { keyPem, certPem: (await signHostCsr(ca, csrPem, hostname)).certPem };
}

async function registered(): Promise<{ dir: string; identity: DaimonIdentity }> {
  const d = (dir = tempDir('identity'));
  const { keyPem, certPem } = await keyAndCert();
  const identity: DaimonIdentity = { cp: 'https://cp:8443', hostname: 'web-01', certPem, caPem: ca.certPem, credential: 'okh_a_b', keyPem, registeredAt: 1 };
  saveIdentity(d, identity);
  return { dir: d, identity };
}

describe('storing a renewed identity', () => {
  it('writes certificate and key (0600) and drops the staged key', async () => {
    const { dir: d, identity } = await registered();
    const next = await keyAndCert();
    stageNextKey(d, next.keyPem);
    expect(statSync(join(d, NEXT_KEY_FILE)).mode & 0o777).toBe(0o600);
    saveRenewedIdentity(d, identity, next.certPem, next.keyPem);
    expect(loadIdentity(d)).toMatchObject({ certPem: next.certPem, keyPem: next.keyPem, credential: 'okh_a_b', hostname: 'web-01' });
    expect(existsSync(join(d, NEXT_KEY_FILE))).toBe(false);
    for (const f of [KEY_FILE, IDENTITY_FILE]) expect(statSync(join(d, f)).mode & 0o777).toBe(0o600);
  });

  it('finishes a renewal cut short after the certificate was stored: the staged key becomes key.pem', async () => {
    const { dir: d, identity } = await registered();
    const next = await keyAndCert();
    stageNextKey(d, next.keyPem);
    // The crash: the document holds the new certificate, key.pem still the old key.
    const doc = JSON.parse(readFileSync(join(d, IDENTITY_FILE), 'utf8')) as Record<string, unknown>;
    writeFileAtomic(join(d, IDENTITY_FILE), JSON.stringify({ ...doc, certificate: next.certPem }), 0o600);
    expect(readFileSync(join(d, KEY_FILE), 'utf8')).toBe(identity.keyPem);
    const loaded = loadIdentity(d);
    expect(loaded?.keyPem).toBe(next.keyPem);
    expect(readFileSync(join(d, KEY_FILE), 'utf8')).toBe(next.keyPem);
    expect(existsSync(join(d, NEXT_KEY_FILE))).toBe(false);
    expect(new X509Certificate(loaded!.certPem).checkPrivateKey((await import('node:crypto')).createPrivateKey(loaded!.keyPem))).toBe(true);
  });

  it('drops a staged key whose certificate never came and keeps the current pair', async () => {
    const { dir: d, identity } = await registered();
    stageNextKey(d, (await keyAndCert()).keyPem);
    expect(loadIdentity(d)).toMatchObject({ certPem: identity.certPem, keyPem: identity.keyPem });
    expect(existsSync(join(d, NEXT_KEY_FILE))).toBe(false);
  });
});
