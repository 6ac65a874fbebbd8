import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterKeyFile, readClusterKey } from '../../../src/cp/cluster/cluster-key.js';
import { NOTIFY_KEY_FILE } from '../../../src/cp/notify/notify-key.js';
import { openSecrets } from '../../../src/cp/notify/channel-secrets.js';
import { NOTIFY_CURSOR_KEY } from '../../../src/cp/notify/enqueuer.js';
import type { ControlPlaneOptions } from '../../../src/cp/cp-server.js';
import { asTicks, findingRecord, runId, sendEvents, startCp, waitFor, type CpHarness, type HostIdentity } from '../cp-harness.js';
import { WebhookReceiver, type ReceivedWebhook } from '../notify/webhook-receiver.js';
import { testNatsUrl } from '../../support/nats.js';
import { testPostgresUrl, type TestPostgresDatabase } from '../../support/postgres.js';

// Two in-process replicas of one CP (a shared PostgreSQL store, the run's NATS server), one leader by lease, and a real
// webhook receiver on loopback that verifies every signature.
const SECRET = 'whsec-cluster-0123456789abcdef';
const LEASE = { ttlMs: 1500, renewMs: 100 };
// Short polls; retries every 50-200 ms, never given up within the test (the receiver is down for a few seconds).
const NOTIFY = { timing: { pollMs: 20, timeoutMs: 3000, retry: { baseMs: 50, maxMs: 200, maxAttempts: 10_000 } } };

let dir: string;
let db: TestPostgresDatabase;
let sql: pg.Client;
let keyFile: string;
let rx: WebhookReceiver;
const replicas: Record<'a' | 'b', CpHarness | undefined> = { a: undefined, b: undefined };
const hosts: Partial<Record<'a' | 'b', HostIdentity>> = {};

const options = (id: string): Partial<ControlPlaneOptions> => ({
  store: db.url, bus: testNatsUrl(), clusterKeyFile: keyFile, replicaId: id, leaseTiming: LEASE, notify: NOTIFY,
});
const replica = (r: 'a' | 'b'): CpHarness => {
  const h = replicas[r];
  if (!h) throw new Error(`replica ${r} is not running`);
  return h;
};
/** Starts replica `r`; a replica after the first gets the admin context (the shared token) the first one was given. */
async function startReplica(r: 'a' | 'b', adminFrom?: CpHarness): Promise<CpHarness> {
  const stateDir = join(dir, `replica-${r}`);
  if (adminFrom) {
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'admin.yaml'), readFileSync(join(adminFrom.stateDir, 'admin.yaml')), { mode: 0o600 });
  }
  const h = await startCp({ stateDir, options: options(`notify-${r}`) });
  replicas[r] = h;
  return h;
}

/** Ingests findings through replica `r`'s tunnel (the real ingest path), as host web-<r>, one run. */
async function ingestVia(r: 'a' | 'b', ...findings: Record<string, unknown>[]): Promise<void> {
  const h = replica(r);
  const identity = hosts[r] ?? (hosts[r] = await h.registerHost(`web-${r}`));
  const tunnel = await h.connectHost(identity);
  const run = runId();
  await sendEvents(tunnel, asTicks(findings.map((f, i) => findingRecord(run, i + 1, f))));
  tunnel.terminate();
}

const query = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> => (await sql.query<T>(text, values)).rows;
const titleOf = (w: ReceivedWebhook): string => (w.body['finding'] as { title: string }).title;
const requestsFor = (title: string): ReceivedWebhook[] => rx.received.filter((w) => w.body['type'] === 'okesu.finding' && titleOf(w) === title);
/** The leader's enqueuer has handled the whole feed and nothing is pending: whatever would be sent, was. */
async function settled(): Promise<void> {
  await waitFor(async () => {
    const [cursor] = await query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [NOTIFY_CURSOR_KEY]);
    const [head] = await query<{ id: string | null }>('SELECT max(id) AS id FROM feed');
    const [pending] = await query<{ n: string }>("SELECT count(*) AS n FROM notify_outbox WHERE state IN ('held', 'pending')");
    return Number(cursor?.value ?? -1) >= Number(head?.id ?? 0) && Number(pending?.n) === 0;
  }, 8000, 'the outbox to settle');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-notify-cluster-'));
  db = await testPostgresUrl();
  sql = new pg.Client({ connectionString: db.url });
  keyFile = join(dir, 'cluster.key');
  createClusterKeyFile(keyFile);
  rx = new WebhookReceiver(SECRET);
  await rx.start();
  // A first, alone: it takes the lease; B joins as a follower.
  const a = await startReplica('a');
  await waitFor(() => a.cp.isLeader(), 5000, 'replica a to lead');
  await startReplica('b', a);
  await sql.connect();
});

afterAll(async () => {
  for (const r of ['b', 'a'] as const) await replicas[r]?.close();
  await rx?.stop();
  await sql?.end();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('alert delivery on a cluster of two replicas', () => {
  it('a channel added through replica a delivers a finding ingested through replica b; its secret is sealed with the cluster key', async () => {
    expect([replica('a').cp.isLeader(), replica('b').cp.isLeader()]).toEqual([true, false]);
    await replica('a').admin.addChannel({ kind: 'webhook', name: 'ops', url: rx.url, secret: SECRET });
    // B reads the same channel from the shared store; the secret is never shown.
    expect(await replica('b').admin.listChannels()).toEqual([expect.objectContaining({ name: 'ops', target: { url: rx.url, secret: 'set' } })]);

    await ingestVia('b', { title: 'reverse shell', resource: 'binary:/tmp/nc' });
    await waitFor(() => rx.delivered().length === 1, 5000, 'the delivery');
    expect(rx.received).toHaveLength(1);
    expect(rx.delivered()[0]?.body).toMatchObject({ type: 'okesu.finding', channel: 'ops', finding: { title: 'reverse shell', host: 'web-b' } });

    // At rest: not the plaintext, and opened by the cluster key (no replica made a notify.key of its own).
    const [row] = await query<{ config: string; sealed: string }>('SELECT config, sealed FROM notify_channels WHERE name = $1', ['ops']);
    expect(JSON.stringify(row)).not.toContain(SECRET);
    expect(openSecrets(readClusterKey(keyFile), 'ops', row?.sealed ?? '')).toEqual({ secret: SECRET });
    for (const r of ['a', 'b'] as const) expect(existsSync(join(replica(r).stateDir, NOTIFY_KEY_FILE))).toBe(false);
  });

  it('sends one delivery per new fingerprint group, whichever replica ingested it: the leader enqueues once', async () => {
    const before = rx.received.length;
    // The group of test 1 again (through both replicas, another host too), and two new groups, one through each.
    await ingestVia('a', { title: 'reverse shell', resource: 'binary:/tmp/nc' }, { title: 'miner', resource: 'binary:/tmp/xmr' });
    await ingestVia('b', { title: 'reverse shell', resource: 'binary:/tmp/nc' }, { title: 'miner', resource: 'binary:/tmp/xmr' }, { title: 'implant', resource: 'binary:/usr/lib/x.so' });
    await settled();
    const fresh = rx.received.slice(before);
    expect(fresh.map(titleOf).sort()).toEqual(['implant', 'miner']);
    expect(fresh.every((w) => w.verified && w.status === 200)).toBe(true);
    expect(new Set(rx.received.map((w) => w.delivery)).size).toBe(rx.received.length);
    // One outbox row and one seen group per group in the shared store.
    const rows = await query<{ title: string; n: string }>(
      "SELECT findings::json->0->>'title' AS title, count(*) AS n FROM notify_outbox WHERE channel = 'ops' GROUP BY 1 ORDER BY 1");
    expect(rows.map((r) => [r.title, Number(r.n)])).toEqual([['implant', 1], ['miner', 1], ['reverse shell', 1]]);
  });

  it('a row is taken for an attempt by one replica only, and an attempt is recorded once (the store, from both replicas)', () => {
    const [a, b] = [replica('a').cp.store(), replica('b').cp.store()];
    const at = Date.now();
    a.transaction(() => a.notify.enqueue({ id: 'dl_claimtest', channel: 'ops', kind: 'finding', state: 'pending', findings: '[]', total: 0, created_at: at, due_at: at, attempts: 0, updated_at: at }));
    expect(b.transaction(() => b.notify.claim('dl_claimtest', 0, at, at + 60_000))).toBe(true);
    expect(a.transaction(() => a.notify.claim('dl_claimtest', 0, at + 1, at + 60_000))).toBe(false);
    const attempt = { delivery_id: 'dl_claimtest', channel: 'ops', attempt: 1, at, outcome: 'delivered' as const, detail: 'HTTP 200' };
    expect(b.transaction(() => b.notify.settle('dl_claimtest', { state: 'delivered', attempts: 1, due_at: at, updated_at: at }, attempt))).toBe(true);
    // A stale replica's outcome of the same attempt changes nothing.
    expect(a.transaction(() => a.notify.settle('dl_claimtest', { state: 'pending', attempts: 1, due_at: at, updated_at: at }, { ...attempt, outcome: 'retry' }))).toBe(false);
    expect(a.notify.get('dl_claimtest')?.state).toBe('delivered');
    expect(a.notify.attempts('dl_claimtest').map((x) => x.outcome)).toEqual(['delivered']);
  });

  it('the leader stops while the receiver is down and a delivery is pending: the other replica takes over and it arrives once', async () => {
    await rx.stop();
    await ingestVia('b', { title: 'rootkit', resource: 'module:diamorphine' });
    // Enqueued by the leader (a) and tried against the dead endpoint.
    const [pendingRow] = await waitFor(async () => {
      const rows = await query<{ id: string; attempts: number }>(
        "SELECT id, attempts FROM notify_outbox WHERE state = 'pending' AND findings::json->0->>'title' = 'rootkit' AND attempts >= 1");
      return rows.length === 1 ? rows : undefined;
    }, 5000, 'a failed attempt at the rootkit delivery');
    await replica('a').close();
    replicas.a = undefined;
    await waitFor(() => replica('b').cp.isLeader(), 5000, 'replica b to take the lease');
    // B retries too while the receiver is still down, then the receiver comes back on the same port.
    const attemptsAtHandover = pendingRow?.attempts ?? 0;
    await waitFor(async () => {
      const [now] = await query<{ attempts: number }>('SELECT attempts FROM notify_outbox WHERE id = $1', [pendingRow?.id]);
      return Number(now?.attempts) > attemptsAtHandover + 1;
    }, 5000, 'b to retry');
    await rx.start();
    await waitFor(() => requestsFor('rootkit').length === 1, 5000, 'the delivery after the handover');
    await settled();

    const got = requestsFor('rootkit');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ verified: true, status: 200, delivery: pendingRow?.id });
    const d = (await replica('b').admin.deliveries({ channel: 'ops' })).find((x) => x.id === pendingRow?.id);
    expect(d?.state).toBe('delivered');
    expect(d?.attempts.at(-1)).toMatchObject({ outcome: 'delivered', detail: 'HTTP 200' });
    expect(d?.attempts.slice(0, -1).every((x) => x.outcome === 'retry' && x.detail.startsWith('network:'))).toBe(true);
  });

  it('the lease is lost while an attempt is under way: the new leader does not send that delivery beside the old one', async () => {
    // A comes back as a follower; B leads. The receiver takes requests and answers none (a hung endpoint).
    await startReplica('a', replica('b'));
    rx.hang = true;
    await ingestVia('a', { title: 'backdoor', resource: 'file:/etc/ld.so.preload' });
    await waitFor(() => requestsFor('backdoor').length === 1, 5000, 'b\'s attempt under way');
    // B's lease is taken from it (as when it stalls past its TTL): B steps down at its next renewal, A takes over.
    await query(`UPDATE leases SET holder = 'notify-a', epoch = epoch + 1, expires_at = (extract(epoch from clock_timestamp()) * 1000)::bigint + 1500 WHERE name = 'leader'`);
    await waitFor(() => replica('a').cp.isLeader() && !replica('b').cp.isLeader(), 5000, 'a to lead and b to step down');
    rx.hang = false;
    await waitFor(() => requestsFor('backdoor').some((w) => w.status === 200), 10_000, 'the delivery by the new leader');
    await settled();

    const got = requestsFor('backdoor');
    // Every request is the same delivery; one was answered (the old leader's attempt hung until its timeout).
    expect(new Set(got.map((w) => w.delivery)).size).toBe(1);
    expect(got.map((w) => w.status)).toEqual([0, 200]);
    const [d] = (await replica('a').admin.deliveries({ channel: 'ops' })).filter((x) => x.id === got[0]?.delivery);
    expect(d?.state).toBe('delivered');
    expect(d?.attempts.map((x) => x.outcome)).toEqual(['retry', 'delivered']);
  });
});
