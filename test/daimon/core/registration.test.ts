import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OkesuError } from '../../../src/errors.js';
import type { ErrorCode } from '../../../src/errors.js';
import { createCertificateAuthority } from '../../../src/pki/ca.js';
import { caFingerprint } from '../../../src/pki/ca-fingerprint.js';
import { IDENTITY_FILE, KEY_FILE, loadIdentity } from '../../../daimon/identity.js';
import { ensureIdentity, errorFromBody, registerDaimon } from '../../../daimon/registration.js';
import { startFakeCp } from './fake-cp.js';
import type { FakeCp } from './fake-cp.js';
import { captureLogger, tempDir } from './helpers.js';

let cp: FakeCp;

beforeAll(async () => {
  cp = await startFakeCp();
});
afterAll(async () => {
  await cp.close();
});
beforeEach(() => {
  cp.requests.length = 0;
  cp.registrations.length = 0;
  cp.registerRefusal = undefined;
});

async function failure(p: Promise<unknown>): Promise<OkesuError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OkesuError);
  return err as OkesuError;
}

describe('registration', () => {
  it('registers, stores identity.json and key.pem with mode 0600, and starts again without the token', async () => {
    const state = tempDir('reg');
    const { log, text } = captureLogger();
    const token = cp.joinToken();
    const first = await ensureIdentity({ stateDir: state, cp: cp.url, token, hostname: 'web-01', labels: { env: 'test' }, version: '1.2.3' }, log);
    expect(first.registered).toBe(true);
    expect(first.identity.hostname).toBe('web-01');
    expect(first.identity.credential).toMatch(/^okh_/);
    expect(cp.requests).toEqual(['GET /v1/ca', 'POST /v1/register']);
    expect(cp.registrations[0]).toMatchObject({ token, hostname: 'web-01', os: process.platform, arch: process.arch, version: '1.2.3', labels: { env: 'test' } });
    for (const file of [IDENTITY_FILE, KEY_FILE]) expect(statSync(join(state, file)).mode & 0o777).toBe(0o600);
    expect(loadIdentity(state)).toEqual(first.identity);

    cp.requests.length = 0;
    const second = await ensureIdentity({ stateDir: state, version: '1.2.3' }, log);
    expect(second).toEqual({ identity: first.identity, registered: false });
    expect(cp.requests).toEqual([]);
    // --cp overrides the stored URL; a token given again is not used
    const third = await ensureIdentity({ stateDir: state, cp: 'https://cp.example:9443/', token, version: '1.2.3' }, log);
    expect(third.identity.cp).toBe('https://cp.example:9443');
    expect(cp.requests).toEqual([]);
    // nothing secret in the logs
    for (const secret of [token, first.identity.credential, first.identity.keyPem]) expect(text()).not.toContain(secret);
  });

  it('refuses a CP whose CA does not match the pin in the token, before sending anything', async () => {
    const other = await createCertificateAuthority({ commonName: 'someone else' });
    const err = await failure(registerDaimon({ cp: cp.url, token: cp.joinToken(caFingerprint(other.certPem)), version: '1' }));
    expect(err.code).toBe('OKS_ERR_CA_PIN_MISMATCH');
    expect(cp.requests).toEqual(['GET /v1/ca']);
  });

  it.each<[ErrorCode, number, string]>([
    ['OKS_ERR_TOKEN_EXPIRED', 401, 'token has expired: it expired at 2026-01-01T00:00:00.000Z'],
    ['OKS_ERR_TOKEN_EXHAUSTED', 401, 'token has no uses left: it was already used'],
    ['OKS_ERR_HOSTNAME_TAKEN', 409, 'hostname is bound to another identity; remove that host first (okesu hosts rm): web-01'],
  ])('surfaces the CP refusal %s with its message and stores nothing', async (code, status, message) => {
    cp.registerRefusal = { status, code, message };
    const state = tempDir('refused');
    const err = await failure(ensureIdentity({ stateDir: state, cp: cp.url, token: cp.joinToken(), version: '1' }, captureLogger().log));
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
    expect(loadIdentity(state)).toBeUndefined();
  });

  it.each([
    ['no identity and no token', { cp: 'https://127.0.0.1:1' }, 'OKS_ERR_CONFIG'],
    ['no identity and no CP', { token: 'okj_x' }, 'OKS_ERR_CONFIG'],
    ['a token that is not a join token', { cp: 'https://127.0.0.1:1', token: 'okt_0123456789abcdef_' + 'a'.repeat(64) }, 'OKS_ERR_TOKEN_INVALID'],
    ['a plain-http CP', { cp: 'http://127.0.0.1:1', token: `okj_0123456789abcdef_${'a'.repeat(64)}_${'A'.repeat(43)}` }, 'OKS_ERR_CONFIG'],
  ])('fails clearly with %s', async (_name, opts, code) => {
    const err = await failure(ensureIdentity({ stateDir: tempDir('bad'), version: '1', ...opts }, captureLogger().log));
    expect(err.code).toBe(code);
  });

  it('reports an unreachable CP as OKS_ERR_CP_UNREACHABLE', async () => {
    const err = await failure(registerDaimon({ cp: 'https://127.0.0.1:1', token: cp.joinToken(), version: '1' }));
    expect(err.code).toBe('OKS_ERR_CP_UNREACHABLE');
  });

  it.each([
    [401, '{"error":{"code":"OKS_ERR_TOKEN_REVOKED","message":"token was revoked"}}', 'OKS_ERR_TOKEN_REVOKED', 'token was revoked'],
    [418, '{"error":{"code":"OKS_ERR_TEAPOT","message":"short and stout"}}', 'OKS_ERR_INTERNAL', 'internal error: the CP answered OKS_ERR_TEAPOT: short and stout'],
    [502, '<html>bad gateway</html>', 'OKS_ERR_INTERNAL', 'internal error: the CP answered HTTP 502: <html>bad gateway</html>'],
  ])('maps an HTTP %i error body to an OkesuError', (status, body, code, message) => {
    const err = errorFromBody(status, body);
    expect([err.code, err.message]).toEqual([code, message]);
  });
});
