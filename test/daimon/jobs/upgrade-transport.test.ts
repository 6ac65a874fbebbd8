import { createPublicKey, randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAutoTransport } from '../../../daimon/jobs/auto-transport.js';
import { createJobsTransport, type JobsTransport } from '../../../daimon/jobs/jobs-transport.js';
import { bucketLayout, parseBucketKey } from '../../../src/protocol/bucket-layout.js';
import { hostParty, upgradeStatusBodySchema } from '../../../src/protocol/bucket-objects.js';
import type { UpgradeOrder, UpgradeReport } from '../../../src/protocol/rollout.js';
import type { Bucket } from '../../../src/transport/bucket/bucket.js';
import { createMemoryBucket, type MemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import { encodeObject, readObject } from '../../../src/transport/bucket/signed-object.js';
import type { DaimonTransport, DaimonTransportHandlers } from '../../../src/transport/types.js';
import { captureLogger, tempDir, waitFor } from '../core/helpers.js';
import { flaky, recorder, testCp, testHost, type TestCp } from './helpers.js';

// The daimon's transports carrying upgrades (docs/jobs-mode.md, Upgrades), on the in-memory bucket: reports retried
// while the bucket fails, the auto transport's choice of path, and orders left unread without a handler. The same
// objects against radosgw and the CP's scanner: test/cp/jobs/bucket-upgrades.test.ts.
let cp: TestCp;
let host: Awaited<ReturnType<typeof testHost>>;
const stops: (() => Promise<void>)[] = [];
beforeAll(async () => {
  cp = await testCp();
  host = await testHost(cp, 'upgrade-host');
});
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
});

const rolloutId = (): string => `ro_${randomBytes(8).toString('hex')}`;
const report = (state: UpgradeReport['state']): UpgradeReport => ({ rollout_id: 'ro_0123456789abcdef', version: '2.0.0', state });

function jobs(bucket: Bucket, mode: 'jobs' | 'auto' = 'jobs'): JobsTransport {
  const t = createJobsTransport(
    { identity: host, bucket, prefix: 'okesu', stateDir: tempDir('upgrade'), version: '1', labels: {}, status: () => ({ running: [], spoolDepth: 0 }), mode, pollMs: 25 },
    { log: captureLogger().log },
  );
  stops.push(() => t.stop());
  return t;
}

/** The reports in the host's outbox, verified as the CP would, in key (= written) order. */
function reportsIn(bucket: MemoryBucket): UpgradeReport[] {
  const key = createPublicKey(host.keyPem);
  const keys = [...bucket.objects.keys()].filter((k) => k.startsWith(cp.layout.hostOutbox(host.hostname))).sort();
  return keys.map((k) => {
    const read = readObject(bucket.objects.get(k)?.body as Buffer, {
      key: cp.layout.relative(k) as string, kind: 'upgrade_status', to: 'cp', now: Date.now(),
      keysOf: (p) => (p === hostParty(host.hostname) ? [key] : undefined), from: (p) => p === hostParty(host.hostname),
    });
    if (!read.ok) throw new Error(`${k}: ${read.reason}`);
    return upgradeStatusBodySchema.parse(read.object.lines[0]);
  });
}

function putOrder(bucket: Bucket, order: UpgradeOrder): Promise<void> {
  const key = cp.layout.upgrade(host.hostname, order.rollout_id);
  const at = Date.now();
  return bucket.put(key, encodeObject({ kind: 'upgrade', key: cp.layout.relative(key) as string, to: hostParty(host.hostname), issued_at: at, expires_at: at + 3_600_000 }, [order], cp.signer));
}

const anOrder = (): UpgradeOrder => ({
  rollout_id: rolloutId(), allow_downgrade: false, health_timeout_ms: 60_000,
  release: { manifest: '{}', signature: `${'A'.repeat(86)}==`, key_id: '0123456789abcdef' },
});

describe('upgrade keys', () => {
  const layout = bucketLayout('okesu');
  it.each([
    ['an order', layout.upgrade('web-1', 'ro_0123456789abcdef'), { kind: 'upgrade', host: 'web-1', rolloutId: 'ro_0123456789abcdef' }],
    ['a report', layout.upgradeReport('web-1', 1_700_000_000_000, 'a1b2c3d4e5f60718'), { kind: 'upgrade_status', host: 'web-1', at: 1_700_000_000_000 }],
  ] as const)('%s is read back from its key', (_label, key, expected) => {
    expect(parseBucketKey(layout.relative(key) as string)).toEqual(expected);
  });

  it.each(['hosts/web-1/inbox/r_01J0000000000000000000000.upgrade', 'hosts/web-1/inbox/ro_XYZ.upgrade', 'out/web-1/ro_0123456789abcdef.upgrade', 'releases/1.0.0/artifact'])(
    '%s is not a key the scanners act on', (key) => {
      expect(parseBucketKey(key)).toBeUndefined();
    },
  );
});

describe('upgrades through the jobs transport', () => {
  it('reports written while the bucket fails are written in order once it answers again', async () => {
    const memory = createMemoryBucket();
    const { bucket, state } = flaky(memory);
    const t = jobs(bucket);
    t.start(recorder());
    await waitFor(() => t.isUp(), 5000, 'up');
    t.reportUpgrade?.(report('downloading'));
    await waitFor(() => reportsIn(memory).length === 1, 5000, 'the first report');
    state.failing = true;
    t.reportUpgrade?.(report('verifying'));
    t.reportUpgrade?.(report('staged'));
    await waitFor(() => !t.isUp(), 5000, 'down');
    expect(reportsIn(memory)).toHaveLength(1);
    state.failing = false;
    await waitFor(() => reportsIn(memory).length === 3, 5000, 'the reports retried');
    expect(reportsIn(memory).map((r) => r.state)).toEqual(['downloading', 'verifying', 'staged']);
  });

  it('a report made before the transport starts is written by its first poll', async () => {
    const memory = createMemoryBucket();
    const t = jobs(memory);
    t.reportUpgrade?.(report('rolled_back'));
    t.start(recorder());
    await waitFor(() => reportsIn(memory).length === 1, 5000, 'the report');
  });

  it('without an onUpgrade handler an order is left unread', async () => {
    const memory = createMemoryBucket();
    await putOrder(memory, anOrder());
    const t = jobs(memory);
    t.start(recorder());
    await waitFor(() => (memory.requestCounts().list ?? 0) >= 4, 5000, 'polls');
    expect(memory.requestCounts().get ?? 0).toBe(0);
    expect(t.refusals()).toEqual({});
  });
});

/** A tunnel that is up or down on demand and records the reports it carried. */
function fakeTunnel(withReports: boolean): DaimonTransport & { up: boolean; h?: DaimonTransportHandlers; reports: UpgradeReport[] } {
  const t = {
    name: 'tunnel', up: false, reports: [] as UpgradeReport[], h: undefined as DaimonTransportHandlers | undefined,
    start: (h: DaimonTransportHandlers) => void (t.h = h),
    send: () => undefined,
    ackDispatch: () => undefined,
    isUp: () => t.up,
    stop: async () => undefined,
    ...(withReports && { reportUpgrade: (r: UpgradeReport) => void t.reports.push(r) }),
  };
  return t;
}

describe('upgrades through the auto transport', () => {
  it('reports through the tunnel while it is up, through the bucket otherwise; orders come from both', async () => {
    const memory = createMemoryBucket();
    const tunnel = fakeTunnel(true);
    const auto = createAutoTransport(tunnel, jobs(memory, 'auto'));
    const orders: UpgradeOrder[] = [];
    auto.start({ ...recorder(), onUpgrade: (o) => void orders.push(o) });
    tunnel.up = true;
    auto.reportUpgrade?.(report('downloading'));
    expect(tunnel.reports.map((r) => r.state)).toEqual(['downloading']);
    tunnel.up = false;
    auto.reportUpgrade?.(report('staged'));
    await waitFor(() => reportsIn(memory).length === 1, 5000, 'the report in the bucket');
    expect(tunnel.reports).toHaveLength(1);

    const viaTunnel = anOrder();
    tunnel.h?.onUpgrade?.(viaTunnel);
    const viaBucket = anOrder();
    await putOrder(memory, viaBucket);
    await waitFor(() => orders.length === 2, 5000, 'both orders');
    expect(orders.map((o) => o.rollout_id)).toEqual([viaTunnel.rollout_id, viaBucket.rollout_id]);
  });

  it('a tunnel that cannot carry reports leaves them to the bucket', async () => {
    const memory = createMemoryBucket();
    const tunnel = fakeTunnel(false);
    tunnel.up = true;
    const auto = createAutoTransport(tunnel, jobs(memory, 'auto'));
    auto.start(recorder());
    auto.reportUpgrade?.(report('failed'));
    await waitFor(() => reportsIn(memory).length === 1, 5000, 'the report in the bucket');
  });
});
