import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAutoTransport } from '../../../daimon/jobs/auto-transport.js';
import { chooseTransportMode } from '../../../daimon/jobs/choose-transport.js';
import { createJobsTransport } from '../../../daimon/jobs/jobs-transport.js';
import type { JobsTransport } from '../../../daimon/jobs/jobs-transport.js';
import { createSender } from '../../../daimon/sender.js';
import type { EventRecord } from '../../../src/protocol/tunnel.js';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import type { MemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import type { DaimonTransport, DaimonTransportHandlers } from '../../../src/transport/types.js';
import { captureLogger, tempDir, waitFor } from '../core/helpers.js';
import { envelope, putJob, readOutbox, record, recorder, testCp, testHost } from './helpers.js';
import type { TestCp } from './helpers.js';

/** A tunnel the test drives: up or down on demand, records what it was given, acknowledges only when told. */
function fakeTunnel(): DaimonTransport & { up: boolean; h?: DaimonTransportHandlers; sent: EventRecord[]; answers: string[]; setUp(on: boolean): void } {
  const t = {
    name: 'tunnel', up: false, sent: [] as EventRecord[], answers: [] as string[], h: undefined as DaimonTransportHandlers | undefined,
    start(h: DaimonTransportHandlers) {
      t.h = h;
    },
    send(records: readonly EventRecord[]) {
      t.sent.push(...records);
    },
    ackDispatch(runId: string) {
      t.answers.push(runId);
    },
    isUp: () => t.up,
    async stop() {},
    setUp(on: boolean) {
      t.up = on;
      if (on) t.h?.onUp();
      else t.h?.onDown('test: cut');
    },
  };
  return t;
}

let cp: TestCp;
let host: Awaited<ReturnType<typeof testHost>>;
const stops: (() => Promise<void>)[] = [];
beforeAll(async () => {
  cp = await testCp();
  host = await testHost(cp, 'auto-host');
});
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
});

function jobs(bucket: MemoryBucket): JobsTransport {
  const t = createJobsTransport(
    { identity: host, bucket, prefix: 'okesu', stateDir: tempDir('auto'), version: '1', labels: {}, status: () => ({ running: [], spoolDepth: 0 }), mode: 'auto', pollMs: 25 },
    { log: captureLogger().log },
  );
  stops.push(() => t.stop());
  return t;
}

describe('auto transport (fake tunnel, memory bucket)', () => {
  it('sends to the tunnel while it is up and to the bucket while it is down, re-offering what the tunnel left unacknowledged', async () => {
    const bucket = createMemoryBucket();
    const tunnel = fakeTunnel();
    const auto = createAutoTransport(tunnel, jobs(bucket));
    // A real sender over a tiny in-memory spool: what is acknowledged leaves it.
    const pending = new Map<string, EventRecord>();
    const spool = {
      pendingFrom: (cursor: number, limit: number) => {
        const all = [...pending.values()].slice(cursor, cursor + limit);
        return { records: all, cursor: cursor + all.length };
      },
      ack: (keys: readonly { run_id: string; seq: number }[]) => keys.forEach((k) => pending.delete(`${k.run_id}#${k.seq}`)),
    };
    const sender = createSender(spool as never, auto);
    stops.push(async () => sender.stop());
    const r = recorder();
    auto.start({ ...r, onAck: (k) => { r.onAck(k); sender.onAck(k); }, onUp: () => { r.onUp(); sender.onUp(); } });
    await waitFor(() => auto.isUp(), 5000, 'the bucket up');
    tunnel.setUp(true);

    const runId = envelope().run_id;
    const add = (seq: number, event?: Record<string, unknown>): void => void pending.set(`${runId}#${seq}`, record(runId, seq, event));
    add(1);
    add(2);
    sender.kick();
    await waitFor(() => tunnel.sent.length === 2, 5000, 'records on the tunnel');
    expect((await readOutbox(bucket, cp, 'auto-host', host.keyPem)).records).toEqual([]);
    // The tunnel drops before acknowledging: the two records and a new run_end go to the bucket.
    tunnel.setUp(false);
    add(3, { type: 'run_end', status: 'succeeded' });
    sender.kick();
    await waitFor(() => pending.size === 0, 5000, 'everything acknowledged through the bucket');
    const out = await readOutbox(bucket, cp, 'auto-host', host.keyPem);
    expect(out.records.map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(out.exits).toEqual([{ run_id: runId, status: 'succeeded', last_seq: 3 }]);
    // Back on the tunnel: new records go there again.
    tunnel.setUp(true);
    add(4);
    sender.kick();
    await waitFor(() => tunnel.sent.some((x) => x.seq === 4), 5000, 'seq 4 on the tunnel');
    expect((await readOutbox(bucket, cp, 'auto-host', host.keyPem)).records.map((x) => x.seq)).toEqual([1, 2, 3]);
  });

  it('writes bucket heartbeats only while the tunnel is down; answers dispatches where they came from', async () => {
    const bucket = createMemoryBucket();
    const tunnel = fakeTunnel();
    const auto = createAutoTransport(tunnel, jobs(bucket));
    const r = recorder();
    auto.start(r);
    await waitFor(() => bucket.objects.has(cp.layout.heartbeat('auto-host')), 5000, 'a heartbeat while the tunnel is down');
    tunnel.setUp(true);
    const puts = (): number => bucket.requestCounts().put ?? 0;
    const before = puts();
    const lists = bucket.requestCounts().list ?? 0;
    await waitFor(() => (bucket.requestCounts().list ?? 0) >= lists + 4, 5000, 'polls');
    expect(puts() - before).toBeLessThanOrEqual(1); // at most the poll that was in flight
    const quiet = puts();
    tunnel.setUp(false);
    await waitFor(() => puts() > quiet, 5000, 'heartbeats again');

    // A dispatch from the bucket is answered by nothing; one from the tunnel is answered on the tunnel.
    const fromBucket = envelope();
    await putJob(bucket, cp, 'auto-host', fromBucket);
    await waitFor(() => r.dispatched.length === 1, 5000, 'the bucket dispatch');
    auto.ackDispatch(fromBucket.run_id, true);
    const fromTunnel = envelope();
    tunnel.h?.onDispatch(fromTunnel);
    auto.ackDispatch(fromTunnel.run_id, true);
    expect(tunnel.answers).toEqual([fromTunnel.run_id]);
  });
});

describe('chooseTransportMode', () => {
  it.each([
    [undefined, 'https://cp:8443', true, 'auto'],
    [undefined, 'https://cp:8443', false, 'tunnel'],
    [undefined, 's3://b/p', true, 'jobs'],
    ['jobs' as const, 'https://cp:8443', true, 'jobs'],
    ['tunnel' as const, 'https://cp:8443', true, 'tunnel'],
  ])('%s with cp %s and bucket %s → %s', (requested, cpUrl, bucket, want) => {
    expect(chooseTransportMode(requested, cpUrl, bucket)).toBe(want);
  });
  it.each([
    ['tunnel' as const, 's3://b/p', true, /https:\/\/ URL.*--transport jobs/],
    ['auto' as const, 's3://b/p', true, /https:\/\//],
    ['jobs' as const, 'https://cp:8443', false, /needs --bucket/],
    [undefined, 's3://b/p', false, /https:\/\//],
  ])('refuses %s with cp %s and bucket %s', (requested, cpUrl, bucket, why) => {
    expect(() => chooseTransportMode(requested, cpUrl, bucket)).toThrow(why);
  });
});
