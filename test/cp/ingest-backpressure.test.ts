import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/cp/store/store.js';
import { createIngestQueue } from '../../src/cp/ingest-queue.js';
import type { IngestItem } from '../../src/cp/store/ingest.js';
import type { EventRecord, RecordKey } from '../../src/protocol/tunnel.js';
import { HEARTBEAT_MS, findingRecord, heartbeat, runId, tickStart, startCp, waitFor, type CpHarness, type TestSocket } from './cp-harness.js';

const findings = (run: string, from: number, n: number): EventRecord[] => Array.from({ length: n }, (_, i) => findingRecord(run, from + i));
const keysOf = (records: readonly EventRecord[]): RecordKey[] => records.map((r) => ({ run_id: r.run_id, seq: r.seq }));

describe('ingest queue', () => {
  let dir: string | undefined;
  let store: Store | undefined;
  afterEach(() => {
    store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('commits at most the cap per transaction, yields to the loop between commits, and reports deep then drained', async () => {
    dir = mkdtempSync(join(tmpdir(), 'okesu-ingest-queue-'));
    const st = openStore(join(dir, 'cp.db'));
    store = st;
    const commits: number[] = [];
    const ingestBatch = st.ingest.ingestBatch.bind(st.ingest);
    st.ingest.ingestBatch = (items: readonly IngestItem[], now: number) => {
      commits.push(items.reduce((n, i) => n + i.records.length, 0));
      return ingestBatch(items, now);
    };
    const queue = createIngestQueue({
      store: st, now: Date.now, log: pino({ level: 'silent' }), onCommitted: () => undefined,
      limits: { maxRecordsPerCommit: 1000, highWater: 3000, lowWater: 1000 },
    });
    let drained = 0;
    queue.onDrained(() => drained++);

    const runs = [runId(), runId()];
    // each run opens with its tick start (seq 0), taking the place of its first finding
    const batches = Array.from({ length: 10 }, (_, i) => ({ host: `web-0${i % 2}`, records: findings(runs[i % 2] as string, Math.floor(i / 2) * 500, 500) }));
    for (const b of batches.slice(0, 2)) b.records[0] = tickStart(b.records[0]?.run_id as string);
    const acks = batches.map((b) => queue.accept(b.host, b.records));
    expect(queue.depth()).toBe(5000);
    expect(queue.isDeep()).toBe(true);
    // Queued after the first commit's turn: it must run before the second commit, not after all of them.
    const commitsAtNextTurn = new Promise<number>((resolve) => setImmediate(() => resolve(commits.length)));

    const acked = await Promise.all(acks);
    expect(await commitsAtNextTurn).toBe(1);
    expect(commits).toEqual([1000, 1000, 1000, 1000, 1000]);
    acked.forEach((ack, i) => expect(ack.acked).toEqual(keysOf((batches[i] as { records: EventRecord[] }).records)));
    expect(drained).toBe(1);
    expect(queue.isDeep()).toBe(false);
    expect(queue.depth()).toBe(0);
    expect(st.findings.summary({}).total).toBe(4998);
  });

  it('flush() commits everything queued, in bounded transactions', async () => {
    dir = mkdtempSync(join(tmpdir(), 'okesu-ingest-queue-'));
    const st = openStore(join(dir, 'cp.db'));
    store = st;
    const queue = createIngestQueue({ store: st, now: Date.now, log: pino({ level: 'silent' }), onCommitted: () => undefined, limits: { maxRecordsPerCommit: 100 } });
    const run = runId();
    const first = findings(run, 0, 150);
    first[0] = tickStart(run);
    const acks = [queue.accept('web-01', first), queue.accept('web-01', findings(run, 150, 150))];
    queue.flush();
    expect(queue.depth()).toBe(0);
    expect((await Promise.all(acks)).flatMap((a) => a.acked)).toHaveLength(300);
    expect(st.findings.summary({}).total).toBe(299);
  });
});

describe('tunnels under an ingest backlog', () => {
  let h: CpHarness | undefined;
  afterEach(async () => {
    await h?.close();
  });

  it('keeps every tunnel, answers heartbeats and acknowledges every record exactly once while the queue is deep', { timeout: 120_000 }, async () => {
    const cp = await startCp();
    h = cp;
    // 3 daimons × 12 frames × 1,000 findings: well past the queue's high-water mark, and seconds of storage work.
    const hosts = await Promise.all(['web-01', 'web-02', 'web-03'].map((name) => cp.registerHost(name)));
    const tunnels: TestSocket[] = await Promise.all(hosts.map((id) => cp.connectHost(id)));
    const sent = tunnels.map(() => [] as RecordKey[]);
    tunnels.forEach((t, i) => {
      const run = runId();
      for (let f = 0; f < 12; f++) {
        const records = findings(run, f * 1000, 1000);
        if (f === 0) records[0] = tickStart(run);
        sent[i]?.push(...keysOf(records));
        t.send({ type: 'events', records });
      }
    });
    // Heartbeats at the pace the CP asked for, all through the backlog; with the old single huge commit the
    // liveness sweep found every tunnel "silent" after the stall and terminated it.
    let seq = 0;
    const beats = setInterval(() => {
      seq++;
      for (const t of tunnels) t.send(heartbeat(seq));
    }, HEARTBEAT_MS);
    try {
      const ackedKeys = (t: TestSocket): RecordKey[] => t.ofType('ack').flatMap((f) => f['records'] as RecordKey[]);
      await waitFor(() => tunnels.every((t, i) => ackedKeys(t).length >= (sent[i]?.length ?? 0)) || tunnels.some((t) => !t.isOpen()), 100_000, 'every record acknowledged');
      const lastBeat = seq;
      await waitFor(() => tunnels.every((t) => t.ofType('heartbeat_ack').some((f) => (f['seq'] as number) >= lastBeat)), 10_000, 'heartbeats answered after the backlog');

      for (const [i, t] of tunnels.entries()) {
        expect(t.isOpen()).toBe(true);
        expect(t.ofType('error')).toEqual([]);
        expect(ackedKeys(t)).toEqual(sent[i]);
      }
    } finally {
      clearInterval(beats);
    }
    const summary = await cp.admin.findingsSummary();
    expect(summary.total).toBe(36_000 - 3);
    expect((await cp.admin.hosts()).filter((x) => x.connected).map((x) => x.hostname).sort()).toEqual(['web-01', 'web-02', 'web-03']);
  });
});

describe('liveness sweep after a blocked event loop', () => {
  let h: CpHarness | undefined;
  afterEach(async () => {
    await h?.close();
  });

  it('does not terminate a tunnel whose heartbeats the CP could not read while it was busy', async () => {
    const cp = await startCp();
    h = cp;
    const tunnel = await cp.connectHost(await cp.registerHost('web-01'));
    let seq = 0;
    const beats = setInterval(() => tunnel.send(heartbeat(++seq)), HEARTBEAT_MS);
    try {
      await tunnel.next((f) => f.type === 'heartbeat_ack' && (f['seq'] as number) >= 2);
      // The CP runs in this process: block the loop for 5 heartbeat intervals, as a long commit would. The sweep
      // then runs before the heartbeats sent meanwhile are read; it must not judge the tunnel silent.
      const end = Date.now() + 5 * HEARTBEAT_MS;
      while (Date.now() < end) {
        // busy: nothing else runs
      }
      const after = seq;
      await tunnel.next((f) => f.type === 'heartbeat_ack' && (f['seq'] as number) > after + 2);
      expect(tunnel.isOpen()).toBe(true);
      expect(tunnel.closeInfo).toBeUndefined();
    } finally {
      clearInterval(beats);
    }
  });
});
