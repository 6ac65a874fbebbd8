import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadReleaseFromBucket, readSignedRelease } from '../../../daimon/jobs/bucket-artifact.js';
import { createJobsTransport, type JobsTransport } from '../../../daimon/jobs/jobs-transport.js';
import { createBucketUpgrades } from '../../../src/cp/jobs/bucket-upgrades.js';
import { createQuarantine } from '../../../src/cp/jobs/quarantine.js';
import { scanOutbox } from '../../../src/cp/jobs/scan-outbox.js';
import type { ScanContext } from '../../../src/cp/jobs/scan-context.js';
import type { StoredRelease } from '../../../src/cp/releases/release-store.js';
import { hostParty } from '../../../src/protocol/bucket-objects.js';
import type { UpgradeOrder, UpgradeReport } from '../../../src/protocol/rollout.js';
import { generateReleaseKey, signRelease } from '../../../src/release/release-signing.js';
import { createObjectSigner, encodeObject } from '../../../src/transport/bucket/signed-object.js';
import { createTestBucket, type TestBucket } from '../../support/s3.js';
import { captureLogger, eventually, tempDir } from '../../daimon/core/helpers.js';
import { recorder, testCp, testHost, type TestCp } from '../../daimon/jobs/helpers.js';
import { quarantineNotes } from './jobs-helpers.js';

// Upgrades of jobs-mode hosts through the bucket (docs/jobs-mode.md, Upgrades), against the run's radosgw: the CP's
// side (bucket-upgrades.ts, the outbox scan) and the daimon's (the inbox reader through the jobs transport, the
// ranged download) meet only in the bucket, as they do in production.
const PREFIX = 'okesu';
let s3: TestBucket;
let cp: TestCp;
const transports: JobsTransport[] = [];
const { log } = captureLogger('warn');

beforeAll(async () => {
  s3 = await createTestBucket('upgrades', { prefix: PREFIX });
  cp = await testCp(PREFIX);
});
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.stop()));
});
afterAll(() => s3.bucket.close());

const upgrades = () => createBucketUpgrades({ bucket: s3.bucket, prefix: PREFIX, identity: { ca: cp.ca }, log, now: Date.now });
const rolloutId = (): string => `ro_${randomBytes(8).toString('hex')}`;

/** A release signed with a fresh release key, its artifact in a file as the CP's release store keeps it. */
function storedRelease(version: string, size: number): { release: StoredRelease; bytes: Buffer } {
  const bytes = randomBytes(size);
  const dir = tempDir('release');
  const artifactPath = join(dir, 'artifact');
  writeFileSync(artifactPath, bytes);
  const key = generateReleaseKey();
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const signed = signRelease(key.privateKeyPem, { version, platform: 'linux-x64', sha256, size });
  return {
    bytes,
    release: {
      signed, artifactPath,
      view: { version, platform: 'linux-x64', sha256, size, key_id: key.keyId, created_at: Date.now(), uploaded_at: Date.now(), uploaded_by: 'test' },
    },
  };
}

function order(over: Partial<UpgradeOrder> = {}): UpgradeOrder {
  return { rollout_id: rolloutId(), release: storedRelease('2.0.0', 16).release.signed, allow_downgrade: false, health_timeout_ms: 60_000, ...over };
}

function transport(host: Awaited<ReturnType<typeof testHost>>, stateDir = tempDir('upgrades')): JobsTransport {
  const t = createJobsTransport(
    { identity: host, bucket: s3.bucket, prefix: PREFIX, stateDir, version: '1.0.0', labels: {}, status: () => ({ running: [], spoolDepth: 0 }), pollMs: 50, batchMs: 10 },
    { log },
  );
  transports.push(t);
  return t;
}

/** Handlers that also record upgrade orders. */
function withUpgrades() {
  const r = recorder();
  const orders: UpgradeOrder[] = [];
  return Object.assign(r, { orders, onUpgrade: (o: UpgradeOrder) => void orders.push(o) });
}

/** Polls of the inbox seen so far (one LIST each when idle). */
const lists = (): number => s3.bucket.requestCounts().list ?? 0;

describe('releases in the bucket', () => {
  it('publishes a release once; a download resumed from a half-written .part gives the same bytes', async () => {
    const size = 3 * 1024 * 1024 + 11;
    const { release, bytes } = storedRelease('1.4.0', size);
    await upgrades().publishRelease(release);
    const layout = cp.layout;
    const listed = (await s3.bucket.list(layout.release('1.4.0'))).entries.map((e) => [e.key, e.size]);
    expect(listed).toEqual([[layout.releaseArtifact('1.4.0'), size], [layout.releaseManifest('1.4.0'), expect.any(Number)]]);

    // Another CP process (or this one after a restart): the release is there, nothing is uploaded again.
    const streamed = s3.bucket.requestCounts().putStream ?? 0;
    await upgrades().publishRelease(release);
    expect(s3.bucket.requestCounts().putStream ?? 0).toBe(streamed);

    expect(await readSignedRelease(s3.bucket, PREFIX, '1.4.0')).toEqual(release.signed);
    expect(await readSignedRelease(s3.bucket, PREFIX, '9.9.9')).toBeUndefined();

    const partPath = join(tempDir('download'), 'upgrade', 'download-1.4.0.part');
    const half = Math.floor(size / 2);
    await downloadReleaseFromBucket({ bucket: s3.bucket, prefix: PREFIX, version: '1.4.0', size, partPath: `${partPath}.first`, chunkBytes: half });
    writeFileSync(partPath, readFileSync(`${partPath}.first`).subarray(0, half));
    const ranges = s3.bucket.requestCounts().getRange ?? 0;
    const progress: number[] = [];
    const outcome = await downloadReleaseFromBucket({ bucket: s3.bucket, prefix: PREFIX, version: '1.4.0', size, partPath, chunkBytes: 1024 * 1024, onProgress: (n) => progress.push(n) });
    expect(outcome).toEqual({ resumedFrom: half, received: size - half });
    expect(readFileSync(partPath).equals(bytes)).toBe(true);
    // Only the second half was asked for: two whole MiB chunks and the rest.
    expect((s3.bucket.requestCounts().getRange ?? 0) - ranges).toBe(2);
    expect(progress).toEqual([half + 1024 * 1024, size]);
    // Complete already: nothing more is read, nothing more is written.
    await downloadReleaseFromBucket({ bucket: s3.bucket, prefix: PREFIX, version: '1.4.0', size, partPath });
    expect((s3.bucket.requestCounts().getRange ?? 0) - ranges).toBe(2);
    expect(statSync(partPath).size).toBe(size);
  });

  it('a manifest size other than the bucket object’s is refused, nothing past the size is written, a longer .part starts again', async () => {
    const { release, bytes } = storedRelease('1.5.0', 1000);
    await upgrades().publishRelease(release);
    const partPath = join(tempDir('download'), 'download-1.5.0.part');
    await expect(downloadReleaseFromBucket({ bucket: s3.bucket, prefix: PREFIX, version: '1.5.0', size: 999, partPath })).rejects.toMatchObject({ code: 'OKS_ERR_RELEASE_MISMATCH' });
    expect(statSync(partPath).size).toBe(0);
    await expect(downloadReleaseFromBucket({ bucket: s3.bucket, prefix: PREFIX, version: '0.0.1', size: 10, partPath })).rejects.toMatchObject({ code: 'OKS_ERR_BUCKET' });
    // Leftovers of something longer: not the start of this release.
    writeFileSync(partPath, randomBytes(2000));
    await downloadReleaseFromBucket({ bucket: s3.bucket, prefix: PREFIX, version: '1.5.0', size: 1000, partPath });
    expect(readFileSync(partPath).equals(bytes)).toBe(true);
  });
});

describe('upgrade orders in the inbox', () => {
  it('an order the CP wrote is handed to onUpgrade once, also after a restart, and the CP clears it', async () => {
    const host = await testHost(cp, 'up-order');
    const o = order();
    await upgrades().order(host.hostname, o);
    const stateDir = tempDir('upgrades');
    const h = withUpgrades();
    transport(host, stateDir).start(h);
    await eventually(async () => h.orders.length > 0, 10_000, 'the order handed over');
    expect(h.orders).toEqual([o]);
    const before = lists();
    await eventually(async () => lists() >= before + 5, 10_000, 'more polls');
    expect(h.orders).toHaveLength(1);

    // The upgraded daimon starts on the same state directory while the order is still there: not handed over again.
    await Promise.all(transports.splice(0).map((t) => t.stop()));
    const again = withUpgrades();
    transport(host, stateDir).start(again);
    const restarted = lists();
    await eventually(async () => lists() >= restarted + 5, 10_000, 'polls after the restart');
    expect(again.orders).toEqual([]);

    await upgrades().clear(host.hostname, o.rollout_id);
    expect((await s3.bucket.list(cp.layout.inbox(host.hostname))).entries).toEqual([]);
  });

  it('a forged order (signed by another key) or one moved from another host is refused, not handed over', async () => {
    const host = await testHost(cp, 'up-forged');
    const other = await testCp(PREFIX);
    const forged = order();
    const key = cp.layout.upgrade(host.hostname, forged.rollout_id);
    const at = Date.now();
    await s3.bucket.put(key, encodeObject({ kind: 'upgrade', key: cp.layout.relative(key) as string, to: hostParty(host.hostname), issued_at: at, expires_at: at + 3_600_000 }, [forged], other.signer));
    // A genuine order of another host, copied into this host's inbox.
    const moved = order();
    await upgrades().order('someone-else', moved);
    await s3.bucket.copy(cp.layout.upgrade('someone-else', moved.rollout_id), cp.layout.upgrade(host.hostname, moved.rollout_id));

    const h = withUpgrades();
    const t = transport(host);
    t.start(h);
    await eventually(async () => Object.values(t.refusals()).reduce((a, b) => a + b, 0) >= 2, 10_000, 'both refused');
    const before = lists();
    await eventually(async () => lists() >= before + 5, 10_000, 'more polls');
    expect(h.orders).toEqual([]);
    expect(Object.keys(t.refusals()).sort()).toEqual([expect.stringMatching(/^signature does not verify/), expect.stringMatching(/^the header names key/)].sort());
    // Refused once each: remembered, not read again on every poll.
    expect(Object.values(t.refusals())).toEqual([1, 1]);
  });
});

describe('upgrade reports in the outbox', () => {
  const scanner = (hostname: string, keyPem: string) => {
    const reports: [string, UpgradeReport][] = [];
    const ctx: ScanContext = { bucket: s3.bucket, layout: cp.layout, quarantine: createQuarantine({ bucket: s3.bucket, layout: cp.layout, now: Date.now, log }), now: Date.now, log };
    const deps = {
      hostKeys: { keysOf: (h: string) => (h === hostname ? [createPublicKey(keyPem)] : undefined) },
      ingest: { accept: async () => ({ acked: [], refused: [] }) },
      cleanup: { schedule: () => undefined, scheduleKeys: () => undefined, flush: async () => undefined, pending: () => 0, stop: async () => undefined },
      onUpgradeStatus: (h: string, r: UpgradeReport) => void reports.push([h, r]),
    };
    return { reports, scan: () => scanOutbox(ctx, deps) };
  };

  it('a report the daimon wrote reaches onUpgradeStatus once and is deleted', async () => {
    const host = await testHost(cp, 'up-report');
    const cpSide = scanner(host.hostname, host.keyPem);
    const t = transport(host);
    t.start(withUpgrades());
    const downloading: UpgradeReport = { rollout_id: rolloutId(), version: '2.0.0', state: 'downloading' };
    const restarting: UpgradeReport = { ...downloading, state: 'restarting' };
    t.reportUpgrade?.(downloading);
    t.reportUpgrade?.(restarting);
    await eventually(async () => (await s3.bucket.list(cp.layout.hostOutbox(host.hostname))).entries.length === 2, 10_000, 'both reports written');
    expect(await cpSide.scan()).toMatchObject({ upgrades: 2 });
    // In the order written.
    expect(cpSide.reports).toEqual([[host.hostname, downloading], [host.hostname, restarting]]);
    expect((await s3.bucket.list(cp.layout.hostOutbox(host.hostname))).entries).toEqual([]);
    expect(await cpSide.scan()).toMatchObject({ upgrades: 0 });
    expect(cpSide.reports).toHaveLength(2);
  });

  it('a malformed or forged report is quarantined and never reaches the rollouts', async () => {
    const host = await testHost(cp, 'up-bad-report');
    const cpSide = scanner(host.hostname, host.keyPem);
    const signer = createObjectSigner(hostParty(host.hostname), host.keyPem);
    const stranger = createObjectSigner(hostParty(host.hostname), (await testHost(cp, 'up-stranger')).keyPem);
    const put = async (lines: unknown[], s = signer): Promise<string> => {
      const key = cp.layout.upgradeReport(host.hostname, Date.now(), randomBytes(8).toString('hex'));
      const at = Date.now();
      await s3.bucket.put(key, encodeObject({ kind: 'upgrade_status', key: cp.layout.relative(key) as string, to: 'cp', issued_at: at, expires_at: at + 3_600_000 }, lines, s));
      return cp.layout.relative(key) as string;
    };
    const bad = await put([{ rollout_id: 'ro_nothex', version: '2.0.0', state: 'healthy' }]);
    const two = await put([{ rollout_id: rolloutId(), version: '2.0.0', state: 'healthy' }, { rollout_id: rolloutId(), version: '2.0.0', state: 'healthy' }]);
    const forged = await put([{ rollout_id: rolloutId(), version: '2.0.0', state: 'healthy' }], stranger);
    expect(await cpSide.scan()).toMatchObject({ upgrades: 0 });
    expect(cpSide.reports).toEqual([]);
    const notes = await quarantineNotes(s3.bucket, cp.layout);
    expect(notes.filter((n) => [bad, two, forged].includes(n.key)).map((n) => [n.key, n.code]).sort()).toEqual([[bad, 'bad_body'], [two, 'bad_body'], [forged, 'unverified']].sort());
    expect(notes.find((n) => n.key === bad)?.reason).toMatch(/^bad upgrade report: rollout_id/);
    expect((await s3.bucket.list(cp.layout.hostOutbox(host.hostname))).entries).toEqual([]);
  });
});
