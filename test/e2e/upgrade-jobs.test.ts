import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { bucketLayout } from '../../src/protocol/bucket-layout.js';
import type { RolloutView } from '../../src/protocol/rollout.js';
import { generateReleaseKey } from '../../src/release/release-signing.js';
import type { TestBucket } from '../support/s3.js';
import { runOkesu, spawnOkesu, stop, tempDir, waitFor, type CpProcess, type OkesuProcess } from './harness.js';
import { bucketEnv, bucketFlags, jobsBucket, joinToken, POLL, startJobsCp, waitHost } from './jobs-harness.js';
import { brokenVersion, buildVersion, health } from './upgrade-harness.js';

// A jobs-only host (no tunnel: orders, artifacts and reports all go through radosgw) upgraded under okesu supervise.

const HOST = 'upj-01';
const key = generateReleaseKey();
let tb: TestBucket;
let cp: CpProcess;
let sup: OkesuProcess;
let dir: string;
let state: string;

beforeAll(async () => {
  dir = tempDir('upgrade-jobs');
  const [v1, v2] = [buildVersion('1.0.0', dir), buildVersion('2.0.0', dir)];
  writeFileSync(join(dir, 'release.key'), key.privateKeyPem, { mode: 0o600 });
  tb = await jobsBucket('e2e-upgrade-jobs');
  cp = await startJobsCp(tempDir('upgrade-jobs-cp'), tb, 0, ['--release-key', key.publicKey]);
  state = tempDir('upgrade-jobs-host');
  sup = spawnOkesu([
    'supervise', '--state', state, '--', 'daemon', '--transport', 'jobs', ...bucketFlags(tb), '--poll', POLL, '--state', state, '--hostname', HOST, '--log-level', 'warn',
  ], { ...bucketEnv(tb), OKESU_JOIN_TOKEN: await joinToken(cp) }, v1);
  await waitHost(cp, HOST, 'online on 1.0.0', (h) => h.state === 'online' && h.version === '1.0.0');
  for (const [file, version] of [[v2, '2.0.0'], [brokenVersion(dir, 'exits-3', { exit: 3 }), '3.0.0']] as const) {
    const r = await runOkesu(['release', 'add', file, '--version', version, '--key', join(dir, 'release.key')], cp.env);
    if (r.code !== 0) throw new Error(`release add ${version}: ${r.stderr}`);
  }
}, 120_000);

afterAll(async () => {
  await stop(sup, 'SIGTERM');
  await stop(cp?.proc, 'SIGKILL');
  tb?.bucket.close();
});

async function upgrade(version: string): Promise<{ state: string; reason: string | null }> {
  const r = await runOkesu(['upgrade', '--host', HOST, '--version', version, '--wait', '--json'], cp.env);
  const row = (JSON.parse(r.stdout) as RolloutView).hosts?.find((h) => h.hostname === HOST);
  if (!row) throw new Error(`upgrade ${version}: ${r.stdout} ${r.stderr}`);
  return { state: row.state, reason: row.reason };
}

describe('upgrading a jobs-only host under okesu supervise', () => {
  it('takes the order and the artifact from the bucket, reports through it, and rolls back a version that exits at start', async () => {
    onTestFailed(() => void process.stderr.write(`--- supervise ---\n${sup.stdoutLines.slice(-80).join('\n')}\n${sup.stderr().slice(-4000)}\n`));
    const identity = readFileSync(join(state, 'identity.json'), 'utf8');
    expect(JSON.parse(identity)).toMatchObject({ release_keys: [key.publicKey] }); // from the bucket registration's answer
    expect(await upgrade('2.0.0')).toEqual({ state: 'healthy', reason: null });
    // The order object goes once the host's state is final.
    const inbox = bucketLayout(tb.location.prefix).inbox(HOST);
    await waitFor('the order cleared from the inbox', async () => (await tb.bucket.list(inbox)).entries.every((e) => !e.key.endsWith('.upgrade')));
    expect(health(state)?.version).toBe('2.0.0');
    // The CP learns the version from the host's bucket heartbeats (a jobs host says no hello).
    await waitHost(cp, HOST, 'online on 2.0.0', (h) => h.state === 'online' && h.version === '2.0.0');
    const before = health(state)?.pid;
    expect(await upgrade('3.0.0')).toEqual({ state: 'rolled_back', reason: 'exited with code 3 before its first heartbeat' });
    await waitFor('2.0.0 running again', () => health(state)?.version === '2.0.0' && health(state)?.pid !== before);
    await waitHost(cp, HOST, 'online again on 2.0.0', (h) => h.state === 'online' && h.version === '2.0.0');
    expect(readFileSync(join(state, 'identity.json'), 'utf8')).toBe(identity);
  });
});
