import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDaimon, type Daimon } from '../../../daimon/daimon.js';
import { loadIdentity, NEXT_KEY_FILE } from '../../../daimon/identity.js';
import { keyMatchesCert } from '../../../src/pki/cert-lifetime.js';
import { normaliseSerial } from '../../../src/pki/peer-identity.js';
import { startCp, waitFor, type CpHarness } from '../../cp/cp-harness.js';
import { freePort, captureJson } from '../../cp/tls-helpers.js';
import { tempDir } from './helpers.js';

const HOST = 'renew-host';
// Short enough that the renewal (at a third of the lifetime left) comes within a test: ~6 s after issue.
const TTL_MS = 9000;

let h: CpHarness | undefined;
let daimon: Daimon | undefined;
let stateDir: string | undefined;
afterEach(async () => {
  await daimon?.stop();
  daimon = undefined;
  await h?.close();
  h = undefined;
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

const serialOf = (pem: string): string => normaliseSerial(new X509Certificate(pem).serialNumber) as string;

describe('a real daimon renews its certificate over the tunnel', () => {
  it('renews before expiry, keeps its host identity and credential, and reconnects with the new certificate', async () => {
    const cpLog = captureJson();
    h = await startCp({ options: { port: await freePort(), hostCertTtlMs: TTL_MS }, log: cpLog.log });
    const dir = (stateDir = tempDir('renew'));
    const fatal: string[] = [];
    const { token } = await h.mintJoin();
    daimon = createDaimon(
      { stateDir: dir, cp: h.url, token, hostname: HOST, agentDirs: [], builtinAgents: false, version: '1.0.0', tunnel: { backoffBaseMs: 20, backoffCapMs: 200 } },
      { log: captureJson().log, onFatal: (code) => fatal.push(code), env: { PATH: process.env.PATH } },
    );
    await daimon.start();
    const first = loadIdentity(dir);
    if (!first) throw new Error('not registered');
    const firstNotAfter = Date.parse(new X509Certificate(first.certPem).validTo);

    // Renewed before the first certificate expires, stored with its new key.
    const renewed = await waitFor(() => {
      const id = loadIdentity(dir);
      return id && id.certPem !== first.certPem ? id : undefined;
    }, 20_000, 'the renewed certificate on disk');
    expect(Date.now()).toBeLessThan(firstNotAfter);
    expect(renewed).toMatchObject({ hostname: HOST, credential: first.credential, cp: first.cp, registeredAt: first.registeredAt });
    expect(keyMatchesCert(renewed.keyPem, renewed.certPem)).toBe(true);
    expect(renewed.keyPem).not.toBe(first.keyPem);
    expect(new X509Certificate(renewed.certPem).subjectAltName).toBe(`DNS:${HOST}, URI:spiffe://okesu/host/${HOST}`);
    for (const file of ['key.pem', 'identity.json']) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    const newSerial = serialOf(renewed.certPem);
    await waitFor(() => h?.cp.store().hosts.get(HOST)?.cert_serial === newSerial || undefined, 5000, 'the CP to record the new serial');

    // The hosts view shows the new expiry.
    const view = (await h.admin.hosts()).find((x) => x.hostname === HOST);
    expect(view?.cert_expires_at).toBe(Date.parse(new X509Certificate(renewed.certPem).validTo));

    // The next connection (after a CP restart) uses a renewed certificate: a full handshake, the same host.
    await h.restart();
    const up = await waitFor(() => cpLog.lines().filter((l) => l['msg'] === 'tunnel up' && l['serial'] !== serialOf(first.certPem)).at(0), 15_000, 'a tunnel with a renewed certificate');
    expect(up).toMatchObject({ host: HOST, resumed: false });
    expect((await h.admin.audit(50)).filter((e) => e.action === 'host.renew_cert').map((e) => e.target)).toContain(HOST);
    expect(fatal).toEqual([]);
    await daimon.stop();
    daimon = undefined;
    // No renewal left half done.
    const final = loadIdentity(dir);
    expect(final && keyMatchesCert(final.keyPem, final.certPem)).toBe(true);
    expect(existsSync(join(dir, NEXT_KEY_FILE))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8'))).toMatchObject({ hostname: HOST, credential: first.credential });
  }, 40_000);
});
