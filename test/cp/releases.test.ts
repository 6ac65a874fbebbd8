import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerResponseSchema } from '../../src/protocol/api.js';
import { generateReleaseKey } from '../../src/release/release-signing.js';
import { startCp, errorCode, type CpHarness, type HostIdentity } from './cp-harness.js';
import { hostGet, signedArtifact, uploadRelease } from './release-helpers.js';
import { createReleaseClient } from '../../src/cli/commands/release-client.js';
import { OkesuError } from '../../src/errors.js';

const key = generateReleaseKey();
const otherKey = generateReleaseKey();

let cp: CpHarness;
let host: HostIdentity;
const first = signedArtifact(key, '1.0.0', 200_000);

beforeAll(async () => {
  cp = await startCp({ options: { releaseKeys: [key.publicKey], keepReleases: 2 } });
  host = await cp.registerHost('alpha');
  const res = await uploadRelease(cp, first.bytes, { signed: first.signed });
  expect(res.status, res.body.toString()).toBe(201);
});
afterAll(async () => {
  await cp.close();
});

const releasesDir = (): string => join(cp.stateDir, 'releases');
const stored = (): string[] => readdirSync(releasesDir()).filter((n) => n !== '.tmp').sort();
const tmpFiles = (): string[] => (existsSync(join(releasesDir(), '.tmp')) ? readdirSync(join(releasesDir(), '.tmp')) : []);

describe('POST /v1/releases', () => {
  it('keeps a verified artifact: 0600 in a 0700 directory, listed, audited, with its signed manifest', async () => {
    const path = join(releasesDir(), '1.0.0', 'artifact');
    expect(readFileSync(path).equals(first.bytes)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(releasesDir(), '1.0.0')).mode & 0o777).toBe(0o700);
    const list = await cp.request('GET', '/v1/releases');
    expect(list.body).toMatchObject({ releases: [{ version: '1.0.0', size: 200_000, key_id: key.keyId, uploaded_by: 'admin' }] });
    const one = await cp.request('GET', '/v1/releases/1.0.0');
    expect(one.body).toMatchObject({ view: { version: '1.0.0' }, signed: first.signed });
    const audit = await cp.admin.audit(20);
    expect(audit.find((e) => e.action === 'release.add' && e.target === '1.0.0')).toBeDefined();
  });

  it.each([
    ['bytes that differ from the manifest', (a: ReturnType<typeof signedArtifact>) => Buffer.from(a.bytes.map((b, i) => (i === 100 ? b ^ 1 : b))), 'OKS_ERR_RELEASE_MISMATCH', 400],
    ['more bytes than the manifest says', (a: ReturnType<typeof signedArtifact>) => Buffer.concat([a.bytes, Buffer.from('x')]), 'OKS_ERR_RELEASE_MISMATCH', 400],
    ['fewer bytes than the manifest says', (a: ReturnType<typeof signedArtifact>) => a.bytes.subarray(1), 'OKS_ERR_RELEASE_MISMATCH', 400],
  ])('refuses %s and keeps nothing', async (_what, body, code, status) => {
    const a = signedArtifact(key, '1.5.0', 50_000);
    const res = await uploadRelease(cp, body(a), { signed: a.signed });
    expect(res.status).toBe(status);
    expect(errorCode(res.json)).toBe(code);
    expect(stored()).not.toContain('1.5.0');
    expect(tmpFiles()).toEqual([]);
    expect((await cp.request('GET', '/v1/releases/1.5.0')).status).toBe(404);
  });

  it('refuses a release signed by a key the CP does not trust', async () => {
    const a = signedArtifact(otherKey, '1.6.0', 10_000);
    const res = await uploadRelease(cp, a.bytes, { signed: a.signed });
    expect(res.status).toBe(403);
    expect(errorCode(res.json)).toBe('OKS_ERR_RELEASE_UNTRUSTED');
    expect(stored()).not.toContain('1.6.0');
  });

  it('refuses a manifest altered after signing', async () => {
    const a = signedArtifact(key, '1.7.0', 10_000);
    const signed = { ...a.signed, manifest: a.signed.manifest.replace('1.7.0', '1.7.1') };
    const res = await uploadRelease(cp, a.bytes, { signed });
    expect(errorCode(res.json)).toBe('OKS_ERR_RELEASE_UNTRUSTED');
  });

  it.each([
    ['missing', null],
    ['not base64', '!!!'],
    ['base64 of text that is not JSON', Buffer.from('not json').toString('base64')],
    ['base64 of JSON of the wrong shape', Buffer.from(JSON.stringify({ manifest: 'x' })).toString('base64')],
  ])('refuses a header that is %s (OKS_ERR_RELEASE_INVALID)', async (_what, header) => {
    const a = signedArtifact(key, '1.8.0', 10_000);
    const res = await uploadRelease(cp, a.bytes, { header });
    expect(res.status).toBe(400);
    expect(errorCode(res.json)).toBe('OKS_ERR_RELEASE_INVALID');
    expect(stored()).not.toContain('1.8.0');
  });

  it('refuses other content under a stored version, and takes the same content again as a no-op', async () => {
    const other = signedArtifact(key, '1.0.0', 1000);
    const res = await uploadRelease(cp, other.bytes, { signed: other.signed });
    expect(errorCode(res.json)).toBe('OKS_ERR_RELEASE_INVALID');
    const again = await uploadRelease(cp, first.bytes, { signed: first.signed });
    expect(again.status).toBe(201);
    expect(readFileSync(join(releasesDir(), '1.0.0', 'artifact')).equals(first.bytes)).toBe(true);
  });

  it('lets only admins upload; viewers and operators list', async () => {
    const viewer = (await cp.mintOperator('viewer')).token;
    const operator = (await cp.mintOperator('operator')).token;
    const a = signedArtifact(key, '1.9.0', 1000);
    for (const token of [viewer, operator]) {
      const res = await uploadRelease(cp, a.bytes, { signed: a.signed, token });
      expect(res.status).toBe(403);
      expect(errorCode(res.json)).toBe('OKS_ERR_FORBIDDEN');
      expect((await cp.request('GET', '/v1/releases', { token })).status).toBe(200);
      expect((await cp.request('GET', '/v1/releases/1.0.0', { token })).status).toBe(200);
    }
    expect((await cp.request('GET', '/v1/releases', { token: null })).status).toBe(401);
    expect(stored()).not.toContain('1.9.0');
  });
});

describe('GET /v1/releases/:version/artifact (hosts)', () => {
  it('serves the whole artifact to a host with its certificate and credential', async () => {
    const res = await hostGet(cp, '/v1/releases/1.0.0/artifact', host);
    expect(res.status).toBe(200);
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['x-okesu-sha256']).toBe(JSON.parse(first.signed.manifest).sha256);
    expect(res.body.equals(first.bytes)).toBe(true);
  });

  it('resumes with Range: bytes=N- (206) and refuses a start past the end (416)', async () => {
    const part = await hostGet(cp, '/v1/releases/1.0.0/artifact', host, { headers: { range: 'bytes=150000-' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 150000-199999/200000');
    expect(part.body.equals(first.bytes.subarray(150_000))).toBe(true);
    for (const range of ['bytes=200000-', 'bytes=0-10', 'items=0-']) {
      const past = await hostGet(cp, '/v1/releases/1.0.0/artifact', host, { headers: { range } });
      expect(past.status, range).toBe(416);
      expect(past.headers['content-range']).toBe('bytes */200000');
      expect(errorCode(past.json)).toBe('OKS_ERR_RANGE_NOT_SATISFIABLE');
    }
  });

  it('refuses a client without a certificate, without a credential, or an operator token', async () => {
    const noCert = await hostGet(cp, '/v1/releases/1.0.0/artifact', host, { cert: false });
    expect(noCert.status).toBe(401);
    expect(errorCode(noCert.json)).toBe('OKS_ERR_CLIENT_CERT_REQUIRED');
    const noCredential = await hostGet(cp, '/v1/releases/1.0.0/artifact', host, { credential: false });
    expect(errorCode(noCredential.json)).toBe('OKS_ERR_UNAUTHENTICATED');
    const admin = await cp.request('GET', '/v1/releases/1.0.0/artifact');
    expect(errorCode(admin.body)).toBe('OKS_ERR_CLIENT_CERT_REQUIRED');
    expect(cp.cp.authFailures().failures.tunnel['OKS_ERR_CLIENT_CERT_REQUIRED']).toBeGreaterThanOrEqual(2);
  });

  it('refuses a host an admin removed', async () => {
    const gone = await cp.registerHost('gamma');
    expect((await hostGet(cp, '/v1/releases/1.0.0/artifact', gone, { headers: { range: 'bytes=199999-' } })).status).toBe(206);
    await cp.admin.removeHost('gamma');
    const res = await hostGet(cp, '/v1/releases/1.0.0/artifact', gone);
    expect(res.status).toBe(403);
    expect(errorCode(res.json)).toBe('OKS_ERR_HOST_REVOKED');
  });

  it('answers 404 for a version it does not have', async () => {
    const res = await hostGet(cp, '/v1/releases/9.9.9/artifact', host);
    expect(res.status).toBe(404);
  });
});

describe('registration and retention', () => {
  it('tells a registering host the release keys', async () => {
    const token = (await cp.mintJoin()).token;
    const res = await cp.register('beta', token);
    expect(registerResponseSchema.parse(res.body).release_keys).toEqual([key.publicKey]);
  });

  it('keeps the last N uploads (N = 2 here), deleting older files', async () => {
    for (const version of ['2.0.0', '2.1.0']) {
      const a = signedArtifact(key, version, 1000);
      expect((await uploadRelease(cp, a.bytes, { signed: a.signed })).status).toBe(201);
    }
    expect(stored()).toEqual(['2.0.0', '2.1.0']);
    const list = (await cp.request('GET', '/v1/releases')).body as { releases: { version: string }[] };
    expect(list.releases.map((r) => r.version)).toEqual(['2.1.0', '2.0.0']);
  });
});

describe('uploads with Expect: 100-continue (the CLI\'s client)', () => {
  const files = mkdtempSync(join(tmpdir(), 'okesu-release-client-'));
  afterAll(() => rmSync(files, { recursive: true, force: true }));
  const write = (a: ReturnType<typeof signedArtifact>, name: string): string => {
    const path = join(files, name);
    writeFileSync(path, a.bytes);
    return path;
  };

  it('is answered before the artifact is sent when the signature is refused, every time', async () => {
    const rogue = signedArtifact(otherKey, '3.0.0', 8 * 1024 * 1024);
    const path = write(rogue, 'rogue');
    const client = createReleaseClient(cp.adminConfig);
    for (let i = 0; i < 10; i++) {
      const err = await client.upload(path, rogue.bytes.length, rogue.signed).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OkesuError);
      expect((err as OkesuError).code).toBe('OKS_ERR_RELEASE_UNTRUSTED');
    }
  });

  it('uploads after 100 Continue', async () => {
    const good = signedArtifact(key, '3.1.0', 300_000);
    const view = await createReleaseClient(cp.adminConfig).upload(write(good, 'good'), good.bytes.length, good.signed);
    expect(view).toMatchObject({ version: '3.1.0', size: 300_000 });
    expect(readFileSync(join(releasesDir(), '3.1.0', 'artifact')).equals(good.bytes)).toBe(true);
  });

  it('still serves JSON routes to a client that expects 100-continue', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ kind: 'join' });
      const req = https.request(
        { host: '127.0.0.1', port: cp.port, path: '/v1/tokens', method: 'POST', ca: cp.caPem, agent: false,
          headers: { authorization: `Bearer ${cp.adminConfig.token}`, 'content-type': 'application/json', 'content-length': body.length, expect: '100-continue' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('continue', () => req.end(body));
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(201);
  });
});
