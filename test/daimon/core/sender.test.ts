import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../../src/protocol/ids.js';
import type { EventRecord } from '../../../src/protocol/tunnel.js';
import type { DaimonTransport } from '../../../src/transport/types.js';
import { createDaimonCounters } from '../../../daimon/metrics/daimon-counters.js';
import { createSender } from '../../../daimon/sender.js';
import { openSpool } from '../../../daimon/spool/spool.js';
import type { Spool } from '../../../daimon/spool/spool.js';
import { tempDir, waitFor } from './helpers.js';

let spool: Spool | undefined;
afterEach(async () => {
  await spool?.close();
  spool = undefined;
});

function fakeTransport(): DaimonTransport & { up: boolean; batches: EventRecord[][] } {
  const t = {
    name: 'fake',
    up: true,
    batches: [] as EventRecord[][],
    start: () => undefined,
    send: (records: readonly EventRecord[]) => void t.batches.push([...records]),
    isUp: () => t.up,
    ackDispatch: () => undefined,
    stop: async () => undefined,
  };
  return t;
}

const runId = newId('r');
const records = (from: number, n: number): EventRecord[] =>
  Array.from({ length: n }, (_, i) => ({ run_id: runId, seq: from + i, event: { type: 'text', ts: 1, agent: 'a' } }));
const total = (batches: EventRecord[][]): number => batches.reduce((n, b) => n + b.length, 0);

describe('sender', () => {
  it('sends pages of at most 500, stops at 5,000 in flight, and sends more as acks arrive', async () => {
    const s = (spool = await openSpool({ dir: tempDir('sender') }));
    await s.append(records(1, 6000));
    const transport = fakeTransport();
    const sender = createSender(s, transport);
    sender.kick();
    await waitFor(() => total(transport.batches) === 5000, 10_000, '5000 sent');
    expect(transport.batches.every((b) => b.length <= 500)).toBe(true);
    expect(sender.inFlight()).toBe(5000);
    sender.kick();
    await new Promise((r) => setImmediate(r));
    expect(total(transport.batches)).toBe(5000);

    sender.onAck(transport.batches[0]?.map((r) => ({ run_id: r.run_id, seq: r.seq })) ?? []);
    await waitFor(() => total(transport.batches) === 5500, 10_000, '500 more');
    expect(s.depth()).toBe(5500);
    expect(transport.batches.flat().map((r) => r.seq)).toEqual(Array.from({ length: 5500 }, (_, i) => i + 1));
    sender.stop();
  });

  it('sends nothing while the transport is down, and everything un-acked from the oldest once it is up', async () => {
    const s = (spool = await openSpool({ dir: tempDir('sender-down') }));
    await s.append(records(1, 10));
    const transport = fakeTransport();
    const counters = createDaimonCounters();
    const sender = createSender(s, transport, { counters });
    sender.kick();
    await waitFor(() => total(transport.batches) === 10, 10_000, 'first send');
    sender.onAck([{ run_id: runId, seq: 1 }, { run_id: runId, seq: 2 }]);
    transport.up = false;
    await s.append(records(11, 2));
    sender.kick();
    await new Promise((r) => setImmediate(r));
    expect(total(transport.batches)).toBe(10);

    transport.up = true;
    transport.batches.length = 0;
    sender.onUp();
    await waitFor(() => total(transport.batches) === 10, 10_000, 'the resend');
    expect(transport.batches.flat().map((r) => r.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // Metrics: a resend counts as sent again; acks count once each.
    expect(counters).toMatchObject({ eventsSent: 20, eventsAcked: 2 });
    sender.stop();
  });
});
