import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { HostView } from '../../src/protocol/api.js';
import type { RolloutView } from '../../src/protocol/rollout.js';
import { generateReleaseKey } from '../../src/release/release-signing.js';
import { okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, type CpProcess, type OkesuProcess } from './harness.js';
import { brokenVersion, buildVersion, health } from './upgrade-harness.js';

// Upgrades as an operator runs them: `okesu release add`, `okesu upgrade --wait`, a real CP, and a host under
// `okesu supervise` running okesu bundles stamped 1.0.0 and 2.0.0 (plus shell scripts as broken versions).

const HOST = 'upg-01';
const trusted = generateReleaseKey();
const other = generateReleaseKey();
let dir: string;
let cp: CpProcess;
let sup: OkesuProcess;
let state: string;
let identity: string;

beforeAll(async () => {
  dir = tempDir('upgrade');
  const [v1, v2] = [buildVersion('1.0.0', dir), buildVersion('2.0.0', dir)];
  writeFileSync(join(dir, 'trusted.key'), trusted.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'other.key'), other.privateKeyPem, { mode: 0o600 });
  // The CP takes uploads signed by either key; the host's policy trusts only the first (the host owner's word wins).
  cp = await startCp(tempDir('cp'), 0, ['--release-key', trusted.publicKey, '--release-key', other.publicKey]);
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, `release_keys:\n  - ${trusted.publicKey}\n`, { mode: 0o644 });
  state = tempDir('host');
  const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
  sup = spawnOkesu(['supervise', '--state', state, '--', 'daemon', '--state', state, '--cp', cp.url, '--hostname', HOST, '--policy', policy, '--log-level', 'warn'], { OKESU_JOIN_TOKEN: token }, v1);
  await online('1.0.0');
  identity = readFileSync(join(state, 'identity.json'), 'utf8');
  await add(v2, '2.0.0');
}, 90_000);

afterAll(async () => {
  await stop(sup, 'SIGTERM');
  await stop(cp?.proc, 'SIGKILL');
});

function dumpOnFailure(): void {
  onTestFailed(() => void process.stderr.write(`--- supervise ---\n${sup.stdoutLines.slice(-80).join('\n')}\n${sup.stderr().slice(-4000)}\n`));
}

async function online(version: string): Promise<HostView> {
  return waitFor(`${HOST} online on ${version}`, async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).find((h) => h.hostname === HOST && h.connected && h.version === version), 30_000);
}

async function add(file: string, version: string, key = 'trusted.key'): Promise<void> {
  const r = await runOkesu(['release', 'add', file, '--version', version, '--key', join(dir, key)], cp.env);
  if (r.code !== 0) throw new Error(`release add ${version}: ${r.stderr}`);
}

/** `okesu upgrade --host HOST --version V --wait --json`: the rollout's host row when it ends. */
async function upgrade(version: string, extra: string[] = []): Promise<{ state: string; reason: string | null }> {
  const r = await runOkesu(['upgrade', '--host', HOST, '--version', version, '--wait', '--json', ...extra], cp.env);
  const view = JSON.parse(r.stdout) as RolloutView;
  const row = view.hosts?.find((h) => h.hostname === HOST);
  if (!row) throw new Error(`upgrade ${version}: no host row (exit ${r.code}): ${r.stdout} ${r.stderr}`);
  return { state: row.state, reason: row.reason };
}

function artifact(name: string, bytes: Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

describe('upgrading a host under okesu supervise', () => {
  it('a good new version: same identity, the new version online and reported healthy', async () => {
    dumpOnFailure();
    expect(await upgrade('2.0.0')).toEqual({ state: 'healthy', reason: null });
    await online('2.0.0');
    expect(readFileSync(join(state, 'identity.json'), 'utf8')).toBe(identity);
    expect(health(state)?.version).toBe('2.0.0');
    expect((await okesuJson<HostView[]>(['hosts'], cp.env)).filter((h) => h.hostname === HOST)).toHaveLength(1);
  });

  it('refuses a tampered artifact, one signed by a key the host does not trust, and an older version; the running one stays', async () => {
    dumpOnFailure();
    const pid = health(state)?.pid;
    // Tampered on the CP's disk after a good upload: the host checks the hash itself.
    await add(artifact('tampered', randomBytes(4096)), '2.1.0');
    const stored = join(cp.stateDir, 'releases', '2.1.0', 'artifact');
    const bytes = readFileSync(stored);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    writeFileSync(stored, bytes);
    const tampered = await upgrade('2.1.0');
    expect(tampered.state).toBe('failed');
    expect(tampered.reason).toMatch(/SHA-256/);

    await add(artifact('other-key', randomBytes(4096)), '2.2.0', 'other.key');
    const untrusted = await upgrade('2.2.0');
    expect(untrusted.state).toBe('failed');
    expect(untrusted.reason).toMatch(/not a trusted release key/);

    await add(artifact('older', randomBytes(4096)), '1.5.0');
    const older = await upgrade('1.5.0');
    expect(older.state).toBe('failed');
    expect(older.reason).toMatch(/1\.5\.0 is older than 2\.0\.0/);

    expect(health(state)?.pid).toBe(pid); // never restarted
    await online('2.0.0');
  });

  it('a version that exits at start and one that never heartbeats are rolled back; the host is online on 2.0.0 again', async () => {
    dumpOnFailure();
    await add(brokenVersion(dir, 'exits-3', { exit: 3 }), '3.0.0');
    const crashed = await upgrade('3.0.0');
    expect(crashed).toEqual({ state: 'rolled_back', reason: 'exited with code 3 before its first heartbeat' });
    await online('2.0.0');

    await add(brokenVersion(dir, 'hangs', 'hang'), '3.1.0');
    const hung = await upgrade('3.1.0', ['--health-timeout', '4s']);
    expect(hung).toEqual({ state: 'rolled_back', reason: 'no heartbeat within 4 s' });
    await online('2.0.0');
    expect(readFileSync(join(state, 'identity.json'), 'utf8')).toBe(identity);
  });
});

