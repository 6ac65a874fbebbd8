import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamMessage } from '../../src/protocol/api.js';
import { replicasResponseSchema } from '../../src/protocol/replicas.js';
import { openStream, type StreamHandle } from '../../src/transport/stream-client.js';
import type { OperatorClient } from '../../src/transport/operator-client.js';
import { record } from '../cp/cp-harness.js';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { simHost, type SimHost } from './cluster-sim.js';
import { runOkesu, waitFor } from './harness.js';

// Two replicas behind HAProxy on one Postgres database and NATS; simulated daimons (the real protocol) whose tunnels
// are placed on a chosen replica, so every cross-replica path is taken on purpose.
let cluster: TestCluster;
/** One long-lived operator client aimed at replica A. */
let clientA: OperatorClient;
const a = (): OperatorClient => clientA;
let onA: SimHost;
let onB: SimHost;
const sims: SimHost[] = [];

beforeAll(async () => {
  cluster = await startCluster({ replicas: 2 });
  clientA = cluster.replicas[0]!.client();
  // A join token made on replica A; both hosts register through the balancer with it.
  const token = (await a().createToken({ kind: 'join', uses: 10 })).token;
  onA = await simHost(cluster, 'cl-host-a', token, cluster.replicas[0]!.port);
  onB = await simHost(cluster, 'cl-host-b', token, cluster.replicas[1]!.port);
  sims.push(onA, onB);
  await waitFor('both hosts connected, seen from A', async () => (await a().hosts()).filter((h) => h.connected).length === 2, 20_000);
}, 120_000);

afterAll(async () => {
  for (const s of sims) s.close();
  await cluster?.stop();
});

describe('a cluster of two replicas behind HAProxy', () => {
  it('okesu cp replicas --json through the balancer lists both replicas, exactly one leader', async () => {
    const r = await runOkesu(['cp', 'replicas', '--json'], cluster.env);
    expect(r.code, r.stderr).toBe(0);
    const view = replicasResponseSchema.parse(JSON.parse(r.stdout));
    expect(view.mode).toBe('cluster');
    expect(view.bus_connected).toBe(true);
    expect(view.replicas.map((x) => x.id).sort()).toEqual(['replica-a', 'replica-b']);
    expect(view.replicas.every((x) => x.alive)).toBe(true);
    expect(view.replicas.filter((x) => x.leader)).toHaveLength(1);
    expect(view.replicas.map((x) => x.url).sort()).toEqual(cluster.replicas.map((x) => x.url).sort());
    // The tunnels are where the test put them.
    await waitFor('one tunnel on each replica', async () => (await cluster.view()).replicas.every((x) => x.tunnels === 1), 10_000);
  });

  it('a host registered with a token made on replica A holds its tunnel on replica B (one CA, one token table)', async () => {
    const hostB = (await a().hosts()).find((h) => h.hostname === 'cl-host-b');
    expect(hostB).toMatchObject({ state: 'online', connected: true, transport: 'tunnel' });
    // B sees it too, and so does the balancer, whichever replica answers.
    expect((await cluster.replicas[1]!.client().hosts()).find((h) => h.hostname === 'cl-host-b')?.connected).toBe(true);
  });

  it('a run created through A for a host on B reaches it; its findings and status are visible through A', async () => {
    const run = await a().createRun({ agent: 'edr', host: 'cl-host-b', prompt: 'cross-replica' });
    const id = await onB.takeDispatch(run.run_id);
    await onB.complete(id, 3);
    const done = await waitFor('run completed, seen from A', async () => {
      const r = await a().getRun(id);
      return r.status === 'completed' ? r : undefined;
    }, 15_000);
    expect(done).toMatchObject({ host: 'cl-host-b', findings: 3 });
    const page = await a().findings({ host: 'cl-host-b', limit: 100 });
    expect(page.findings.filter((f) => f.run_id === id).map((f) => f.seq).sort()).toEqual([1, 2, 3]);
  });

  it('a cancel through A reaches the host on B', async () => {
    const run = await a().createRun({ agent: 'edr', host: 'cl-host-b', prompt: 'to be cancelled' });
    const id = await onB.takeDispatch(run.run_id);
    await onB.send([record(id, 0, { type: 'run_start' })]);
    await waitFor('run running', async () => (await a().getRun(id)).status === 'running', 10_000);
    await a().cancelRun(id, 'operator on A');
    const cancel = await onB.socket.next((f) => f.type === 'cancel' && f.run_id === id, { timeoutMs: 10_000 });
    expect(cancel.reason).toBe('operator on A');
    await onB.send([record(id, 1, { type: 'run_end', status: 'cancelled' })]);
    await waitFor('run cancelled, seen from A', async () => (await a().getRun(id)).status === 'cancelled', 10_000);
  });

  it('a fan-out with a selector reaches hosts on both replicas', async () => {
    for (const h of ['cl-host-a', 'cl-host-b']) await a().setHostLabels(h, { set: { fan: 'yes' } });
    const fan = await cluster.client().createRuns({ agent: 'edr', selector: 'label:fan=yes', prompt: 'fan-out' });
    expect(fan.runs.map((r) => r.host).sort()).toEqual(['cl-host-a', 'cl-host-b']);
    const byHost = new Map(fan.runs.map((r) => [r.host, r.run_id]));
    await Promise.all([onA, onB].map(async (s) => {
      const id = await s.takeDispatch(byHost.get(s.hostname));
      await s.complete(id, 1);
    }));
    await waitFor('both fan-out runs completed', async () => {
      const runs = await Promise.all(fan.runs.map((r) => a().getRun(r.run_id)));
      return runs.every((r) => r.status === 'completed');
    }, 15_000);
  });

  it('the live stream on A sees findings ingested on B in cursor order, and resumes with after= missing and repeating nothing', async () => {
    const seen: Extract<StreamMessage, { type: 'finding' }>[] = [];
    const follow = (after?: number): { handle: StreamHandle; ready: Promise<void> } => {
      let ready!: () => void;
      const isReady = new Promise<void>((r) => (ready = r));
      const handle = openStream({ ...cluster.admin, cp: cluster.replicas[0]!.url }, {
        after, kinds: ['finding'], filter: { host: 'cl-host-b' },
        onMessage: (m) => (m.type === 'finding' ? seen.push(m) : m.type === 'ready' ? ready() : undefined),
      });
      return { handle, ready: isReady };
    };
    const first = follow();
    await first.ready;
    const run1 = await a().createRun({ agent: 'edr', host: 'cl-host-b', prompt: 'stream 1' });
    await onB.complete(await onB.takeDispatch(run1.run_id), 20);
    await waitFor('20 findings on the stream of A', () => seen.length >= 20, 15_000);
    const cursor = first.handle.cursor();
    first.handle.close();
    expect(cursor).toBeDefined();

    // While nobody follows, B ingests more; a new stream from the last cursor gets exactly those.
    const run2 = await a().createRun({ agent: 'edr', host: 'cl-host-b', prompt: 'stream 2' });
    await onB.complete(await onB.takeDispatch(run2.run_id), 20);
    const second = follow(cursor);
    await waitFor('40 findings on the streams of A', () => seen.length >= 40, 15_000);
    second.handle.close();

    const cursors = seen.map((m) => m.cursor);
    expect(cursors).toEqual([...cursors].sort((x, y) => x - y));
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(seen).toHaveLength(40);
    const keys = seen.map((m) => `${m.finding.run_id}/${m.finding.seq}`);
    expect(new Set(keys).size).toBe(40);
    expect(seen.filter((m) => m.finding.run_id === run1.run_id)).toHaveLength(20);
    expect(seen.filter((m) => m.finding.run_id === run2.run_id)).toHaveLength(20);
  });
});
