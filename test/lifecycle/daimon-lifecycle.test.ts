import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDaimon, type Daimon } from '../../daimon/daimon.js';
import { createHealthMarker } from '../../daimon/lifecycle/health-mark.js';
import { trustedReleaseKeys } from '../../daimon/lifecycle/daimon-lifecycle.js';
import { healthSchema, lifecyclePaths } from '../../daimon/lifecycle/state-layout.js';
import { loadIdentity, saveIdentity, type DaimonIdentity } from '../../daimon/identity.js';
import { parsePolicy } from '../../daimon/policy/load-policy.js';
import { generateReleaseKey } from '../../src/release/release-signing.js';
import { startCp, waitFor, type CpHarness } from '../cp/cp-harness.js';
import { captureLogger, tempDir } from '../daimon/core/helpers.js';

describe('health.json', () => {
  it('is written at the first contact, then at most every 10 s', () => {
    const dir = tempDir('health');
    let t = 1_000_000;
    const marker = createHealthMarker({ paths: lifecyclePaths(dir), version: '1.2.3', hostname: 'web-01' }, { now: () => t });
    const read = () => healthSchema.parse(JSON.parse(readFileSync(join(dir, 'health.json'), 'utf8')));
    marker.contact();
    expect(read()).toEqual({ version: '1.2.3', pid: process.pid, hostname: 'web-01', at: 1_000_000 });
    t += 9_999;
    marker.contact();
    expect(read().at).toBe(1_000_000);
    t += 1;
    marker.contact();
    expect(read().at).toBe(1_010_000);
  });
});

describe('trusted release keys', () => {
  const cpKey = generateReleaseKey().publicKey;
  const hostKey = generateReleaseKey().publicKey;

  it('come from the registration answer (kept in identity.json), replaced by the host policy when it names some', () => {
    expect(trustedReleaseKeys(undefined, { releaseKeys: [cpKey] })).toEqual([cpKey]);
    expect(trustedReleaseKeys([hostKey], { releaseKeys: [cpKey] })).toEqual([hostKey]);
    expect(trustedReleaseKeys(undefined, {})).toEqual([]);
  });

  it('survive a save and load of the identity', async () => {
    const dir = tempDir('identity');
    const { issueServerCertificate, createCertificateAuthority } = await import('../../src/pki/ca.js');
    const ca = await createCertificateAuthority({ commonName: 't' });
    const cert = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: [] });
    const identity: DaimonIdentity = { cp: 'https://cp:8443', hostname: 'web-01', certPem: cert.certPem, caPem: ca.certPem, credential: 'okh_x', keyPem: cert.keyPem, registeredAt: 1, releaseKeys: [cpKey] };
    saveIdentity(dir, identity);
    expect(loadIdentity(dir)?.releaseKeys).toEqual([cpKey]);
    saveIdentity(dir, { ...identity, releaseKeys: undefined });
    expect(loadIdentity(dir)?.releaseKeys).toBeUndefined();
  });

  it('a host policy names them under release_keys, checked', () => {
    const ok = parsePolicy(`release_keys:\n  - ${hostKey}\n`, 'policy.yaml');
    expect(ok.ok && ok.policy.releaseKeys).toEqual([hostKey]);
    const none = parsePolicy('pass_env: []\n', 'policy.yaml');
    expect(none.ok && none.policy.releaseKeys).toBeUndefined();
    const bad = parsePolicy('release_keys:\n  - ed25519:nope\n', 'policy.yaml');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors[0]?.message).toMatch(/release public key/);
  });
});

describe('a daimon on its tunnel', () => {
  let h: CpHarness;
  let daimon: Daimon | undefined;
  beforeEach(async () => {
    h = await startCp();
  });
  afterEach(async () => {
    await daimon?.stop();
    await h.close();
  });

  it('writes health.json once the CP welcomes it, naming its version, pid and hostname', async () => {
    const state = tempDir('tunnel-health');
    mkdirSync(join(state, 'upgrade'), { recursive: true });
    const { token } = await h.admin.createToken({ kind: 'join', uses: 1 });
    daimon = createDaimon(
      { stateDir: state, cp: h.url, token, hostname: 'life-01', builtinAgents: false, version: '1.4.0', supervised: true },
      { log: captureLogger('warn').log, env: { PATH: process.env.PATH } },
    );
    const before = Date.now();
    await daimon.start();
    const health = await waitFor(() => {
      try {
        return healthSchema.parse(JSON.parse(readFileSync(join(state, 'health.json'), 'utf8')));
      } catch {
        return undefined;
      }
    }, 10_000, 'health.json');
    expect(health).toMatchObject({ version: '1.4.0', pid: process.pid, hostname: 'life-01' });
    expect(health.at).toBeGreaterThanOrEqual(before);
    writeFileSync(join(state, 'upgrade', 'result.json'), '{}'); // unreadable results are logged, never crash the tunnel
    await waitFor(async () => (await h.admin.hosts()).some((x) => x.hostname === 'life-01' && x.connected), 10_000, 'life-01 online');
  });
});
