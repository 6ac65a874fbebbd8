import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lifecyclePaths, pendingUpgradeSchema } from '../../daimon/lifecycle/state-layout.js';
import { createUpgrader, type UpgradeOrder, type UpgradeReport } from '../../daimon/lifecycle/upgrader.js';
import { generateReleaseKey, signRelease } from '../../src/release/release-signing.js';
import { startReleaseServer, type ReleaseServer } from './release-server.js';
import { waitFor } from './supervise-harness.js';

let srv: ReleaseServer;
const trusted = generateReleaseKey();
const stranger = generateReleaseKey();
const v2 = randomBytes(50_000);
beforeAll(async () => {
  srv = await startReleaseServer();
  srv.serve('2.0.0', v2);
  srv.serve('0.9.0', randomBytes(1000));
});
afterAll(() => srv.close());

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
let rollouts = 0;

function order(version: string, over: { bytes?: Buffer; key?: string; platform?: string; allow_downgrade?: boolean; rollout_id?: string } = {}): UpgradeOrder {
  const bytes = over.bytes ?? v2;
  const release = signRelease(over.key ?? trusted.privateKeyPem, { version, platform: over.platform ?? 'linux-x64', sha256: sha(bytes), size: bytes.length });
  return {
    rollout_id: over.rollout_id ?? `ro_${(++rollouts).toString(16).padStart(16, '0')}`, release,
    allow_downgrade: over.allow_downgrade ?? false, health_timeout_ms: 30_000,
  };
}

function host(over: { supervised?: boolean; withCurrent?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'okesu-upgrader-'));
  const paths = lifecyclePaths(dir);
  const running = join(mkdtempSync(join(tmpdir(), 'okesu-running-')), 'okesu');
  writeFileSync(running, '#!/bin/sh\necho old\n', { mode: 0o755 });
  const sent: UpgradeReport[] = [];
  let restarts = 0;
  const upgrader = createUpgrader(
    {
      paths, version: '1.0.0', supervised: over.supervised ?? true, runningFile: running, platform: 'linux-x64', trustedKeys: () => [trusted.publicKey],
      credentials: () => ({ cp: srv.url, certPem: srv.client.certPem, keyPem: srv.client.keyPem, caPem: srv.ca, credential: srv.client.credential }),
    },
    { log: pino({ level: 'silent' }), send: (f) => void sent.push(f), onRestart: () => void restarts++ },
  );
  return {
    dir, paths, running, sent, upgrader, restarts: () => restarts,
    states: () => sent.map((s) => s.state),
    final: () => waitFor('a final state', () => sent.find((s) => ['restarting', 'failed', 'healthy'].includes(s.state))),
  };
}

describe('the daimon carrying out an upgrade order', () => {
  it('downloads, verifies, stages bin/okesu-V, keeps the running one as previous, swaps current, writes pending, and asks to restart', async () => {
    const h = host();
    const o = order('2.0.0');
    h.upgrader.order(o);
    await h.final();
    expect(h.states()).toEqual(['downloading', 'verifying', 'staged', 'restarting']);
    expect(h.sent.every((s) => s.rollout_id === o.rollout_id && s.version === '2.0.0')).toBe(true);
    expect(h.restarts()).toBe(1);
    expect(readFileSync(h.paths.executable('2.0.0')).equals(v2)).toBe(true);
    expect(statSync(h.paths.executable('2.0.0')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(h.paths.current)).toBe('okesu-2.0.0');
    expect(readlinkSync(h.paths.previous)).toBe('okesu-1.0.0');
    expect(readFileSync(h.paths.executable('1.0.0'), 'utf8')).toBe(readFileSync(h.running, 'utf8'));
    const pending = pendingUpgradeSchema.parse(JSON.parse(readFileSync(h.paths.pending, 'utf8')));
    expect(pending).toMatchObject({ rollout_id: o.rollout_id, from_version: '1.0.0', to_version: '2.0.0', health_timeout_ms: 30_000 });
    expect(existsSync(h.paths.download('2.0.0'))).toBe(false);
    // A repeated order of the same rollout is ignored; another rollout is refused while this one restarts.
    h.upgrader.order(o);
    h.upgrader.order(order('2.0.0'));
    expect(h.states()).toEqual(['downloading', 'verifying', 'staged', 'restarting', 'failed']);
    expect(h.sent.at(-1)?.reason).toContain(`another upgrade (rollout ${o.rollout_id}) is in progress`);
  });

  it('with a bin/current already there, previous points where current did', async () => {
    const h = host();
    mkdirSync(h.paths.bin, { recursive: true });
    writeFileSync(h.paths.executable('1.0.0'), 'installed', { mode: 0o755 });
    const { symlinkSync } = await import('node:fs');
    symlinkSync('okesu-1.0.0', h.paths.current);
    h.upgrader.order(order('2.0.0'));
    await h.final();
    expect(readlinkSync(h.paths.previous)).toBe('okesu-1.0.0');
    expect(readFileSync(h.paths.executable('1.0.0'), 'utf8')).toBe('installed'); // not replaced by the running file
    expect(readlinkSync(h.paths.current)).toBe('okesu-2.0.0');
  });

  it.each([
    ['not under a supervisor', { supervised: false }, () => order('2.0.0'), /OKESU_SUPERVISOR_PID/],
    ['signed by another key', {}, () => order('2.0.0', { key: stranger.privateKeyPem }), /not a trusted release key/],
    ['for another platform', {}, () => order('2.0.0', { platform: 'darwin-arm64' }), /built for darwin-arm64, this host is linux-x64/],
    ['older, without allow_downgrade', {}, () => order('0.9.0', { bytes: randomBytes(10) }), /0\.9\.0 is older than 1\.0\.0/],
    ['tampered (the artifact is not the signed one)', {}, () => order('2.0.0', { bytes: randomBytes(v2.length) }), /SHA-256 is [0-9a-f]{64}, the signed manifest says/],
  ])('refuses a release %s: failed with the reason, nothing swapped, result.json kept for the next connect', async (_name, over, make, reason) => {
    const h = host(over);
    const o = make();
    h.upgrader.order(o);
    const last = await h.final();
    expect(last.state).toBe('failed');
    expect(last.reason).toMatch(reason);
    expect(h.restarts()).toBe(0);
    expect(existsSync(h.paths.current)).toBe(false);
    expect(existsSync(h.paths.pending)).toBe(false);
    expect(existsSync(h.paths.download('2.0.0'))).toBe(false);
    h.sent.length = 0;
    h.upgrader.onConnected();
    expect(h.sent).toEqual([{ rollout_id: o.rollout_id, version: last.version, state: 'failed', reason: last.reason }]);
    // Another order is taken after a failure.
    h.sent.length = 0;
    if (!('supervised' in over)) {
      h.upgrader.order(order('2.0.0'));
      expect((await h.final()).state).toBe('restarting');
    }
  });

  it('answers healthy at once for the version it runs, and takes an older one with allow_downgrade', async () => {
    const h = host();
    h.upgrader.order(order('1.0.0'));
    expect(h.sent).toEqual([expect.objectContaining({ state: 'healthy', version: '1.0.0' })]);
    const old = randomBytes(2000);
    srv.serve('0.9.1', old);
    const d = host();
    d.upgrader.order(order('0.9.1', { bytes: old, allow_downgrade: true }));
    expect((await d.final()).state).toBe('restarting');
    expect(readlinkSync(d.paths.current)).toBe('okesu-0.9.1');
  });

  it('reports result.json on every connect and again when the supervisor rewrites it', () => {
    const h = host();
    mkdirSync(h.paths.upgrade, { recursive: true });
    const result = { rollout_id: 'ro_00000000000000aa', version: '2.0.0', outcome: 'rolled_back', reason: 'exited with code 3 before its first heartbeat', at: 1 };
    writeFileSync(h.paths.result, JSON.stringify(result));
    h.upgrader.onConnected();
    h.upgrader.onContact(); // unchanged: not repeated
    h.upgrader.onConnected(); // a new connection: repeated
    expect(h.sent).toEqual([
      { rollout_id: result.rollout_id, version: '2.0.0', state: 'rolled_back', reason: result.reason },
      { rollout_id: result.rollout_id, version: '2.0.0', state: 'rolled_back', reason: result.reason },
    ]);
    writeFileSync(h.paths.result, JSON.stringify({ ...result, outcome: 'healthy', reason: undefined, at: 2 }));
    h.upgrader.onContact();
    expect(h.sent.at(-1)).toEqual({ rollout_id: result.rollout_id, version: '2.0.0', state: 'healthy' });
    writeFileSync(h.paths.result, '{"nonsense": true}');
    h.upgrader.onContact(); // unreadable: logged, not sent
    expect(h.sent).toHaveLength(3);
  });

  it('refuses while this version is itself on trial', async () => {
    const h = host();
    mkdirSync(h.paths.upgrade, { recursive: true });
    writeFileSync(h.paths.pending, '{}');
    h.upgrader.order(order('2.0.0'));
    expect((await h.final()).reason).toMatch(/on trial/);
  });
});
