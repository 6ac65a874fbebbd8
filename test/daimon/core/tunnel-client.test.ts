import { afterEach, beforeAll, afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { DispatchEnvelope } from '../../../src/protocol/dispatch.js';
import { newId } from '../../../src/protocol/ids.js';
import type { EventRecord, RecordKey } from '../../../src/protocol/tunnel.js';
import type { DaimonIdentity } from '../../../daimon/identity.js';
import { registerDaimon } from '../../../daimon/registration.js';
import { createSender } from '../../../daimon/sender.js';
import { openSpool } from '../../../daimon/spool/spool.js';
import type { Spool } from '../../../daimon/spool/spool.js';
import { createTunnelClient } from '../../../daimon/tunnel-client.js';
import { createDaimonCounters } from '../../../daimon/metrics/daimon-counters.js';
import type { DaimonCounters } from '../../../daimon/metrics/daimon-counters.js';
import type { TunnelClient } from '../../../daimon/tunnel-client.js';
import { startFakeCp } from './fake-cp.js';
import type { FakeCp, FakeTunnel, Frame } from './fake-cp.js';
import { captureLogger, tempDir, waitFor } from './helpers.js';

let cp: FakeCp;
let identity: DaimonIdentity;
let client: TunnelClient | undefined;
let spool: Spool | undefined;

interface Seen {
  up: number;
  down: string[];
  fatal: { code: string; message: string }[];
  dispatches: DispatchEnvelope[];
  cancels: [string, string][];
  acks: RecordKey[][];
}

function startClient(over: { onUp?: () => void; onAck?: (k: readonly RecordKey[]) => void; running?: string[]; random?: () => number; counters?: DaimonCounters } = {}): { client: TunnelClient; seen: Seen; log: ReturnType<typeof captureLogger> } {
  const seen: Seen = { up: 0, down: [], fatal: [], dispatches: [], cancels: [], acks: [] };
  const log = captureLogger();
  const c = createTunnelClient(
    {
      identity, version: '9.9.9', os: 'linux', arch: 'x64', labels: { env: 'test' },
      status: () => ({ running: over.running ?? [], spoolDepth: spool?.depth() ?? 0 }),
      backoffBaseMs: 20, backoffCapMs: 100, ...(over.counters && { counters: over.counters }),
    },
    { log: log.log, ...(over.random ? { random: over.random } : {}) },
  );
  c.start({
    onDispatch: (e) => seen.dispatches.push(e),
    onCancel: (id, reason) => seen.cancels.push([id, reason]),
    onAck: (keys) => {
      seen.acks.push([...keys]);
      over.onAck?.(keys);
    },
    onUp: () => {
      seen.up++;
      over.onUp?.();
    },
    onDown: (reason) => seen.down.push(reason),
    onFatal: (code, message) => seen.fatal.push({ code, message }),
  });
  client = c;
  return { client: c, seen, log };
}

const tunnel = async (index: number): Promise<FakeTunnel> => {
  await waitFor(() => cp.tunnels.length > index, 10_000, `tunnel #${index + 1}`);
  return cp.tunnels[index] as FakeTunnel;
};
const framesOf = (t: FakeTunnel, type: string): Frame[] => t.frames.filter((f) => f.type === type);

beforeAll(async () => {
  cp = await startFakeCp();
  identity = await registerDaimon({ cp: cp.url, token: cp.joinToken(), hostname: 'tunnel-host', version: '9.9.9' });
});
afterAll(async () => {
  await cp.close();
});
beforeEach(() => {
  cp.tunnels.length = 0;
  cp.requests.length = 0;
  cp.upgradeRefusal = undefined;
  cp.welcome = true;
  cp.ackHeartbeats = true;
  cp.heartbeatMs = 50;
  cp.reconnectSpreadMs = undefined;
});
afterEach(async () => {
  await client?.stop();
  client = undefined;
  await spool?.close();
  spool = undefined;
});

describe('tunnel client', () => {
  it('connects with its client certificate and credential, says hello first, then heartbeats at the welcome interval', async () => {
    const running = [newId('r')];
    const { seen } = startClient({ running });
    const t = await tunnel(0);
    expect(t.authorized).toBe(true);
    expect(t.hostname).toBe('tunnel-host');
    expect(t.authorization).toBe(`Bearer ${identity.credential}`);
    await waitFor(() => framesOf(t, 'heartbeat').length >= 4, 10_000, '4 heartbeats');
    expect(t.frames[0]).toEqual({ type: 'hello', protocol: 1, version: '9.9.9', os: 'linux', arch: 'x64', labels: { env: 'test' }, running, spool_depth: 0 });
    const beats = framesOf(t, 'heartbeat');
    expect(beats.map((b) => b.seq)).toEqual(beats.map((_, i) => i + 1));
    expect(beats[0]).toMatchObject({ running: 1, spool_depth: 0 });
    const times = t.times.filter((_, i) => t.frames[i]?.type === 'heartbeat');
    // the mean gap, not each one: server and client share an event loop, so one late read can bunch two frames
    expect(((times.at(-1) as number) - (times[0] as number)) / (times.length - 1)).toBeGreaterThanOrEqual(40);
    expect(seen.up).toBe(1);
    expect(client?.isUp()).toBe(true);
  });

  it('reconnects after the CP drops it, and keeps heartbeat numbers increasing', async () => {
    const counters = createDaimonCounters();
    const { seen } = startClient({ counters });
    const first = await tunnel(0);
    await waitFor(() => framesOf(first, 'heartbeat').length >= 1, 10_000, 'a heartbeat');
    expect(counters).toMatchObject({ tunnelConnected: 1, tunnelReconnects: 0 });
    first.ws.terminate();
    await waitFor(() => counters.tunnelReconnects === 1, 10_000, 'a reconnect counted');
    const second = await tunnel(1);
    await waitFor(() => framesOf(second, 'heartbeat').length >= 1, 10_000, 'a heartbeat on the new tunnel');
    expect(second.frames[0]?.type).toBe('hello');
    const lastBefore = Math.max(...framesOf(first, 'heartbeat').map((f) => f.seq as number));
    expect(framesOf(second, 'heartbeat')[0]?.seq as number).toBeGreaterThan(lastBefore);
    expect(seen.up).toBe(2);
    expect(seen.down).toHaveLength(1);
    expect(counters).toMatchObject({ tunnelConnected: 1, tunnelReconnects: 1 });
  });


  it('spreads its reconnect over the window the welcome names, not only its own short backoff', async () => {
    // random 0.5: the delay is half the window — 10 ms of the 20 ms backoff, 750 ms of a 1.5 s fleet window
    cp.reconnectSpreadMs = 1500;
    startClient({ random: () => 0.5 });
    const first = await tunnel(0);
    await waitFor(() => framesOf(first, 'heartbeat').length >= 1, 10_000, 'a heartbeat');
    const droppedAt = performance.now();
    first.ws.terminate();
    await tunnel(1);
    expect(performance.now() - droppedAt).toBeGreaterThanOrEqual(700);
  });
  it('resends every un-acknowledged record after a reconnect, and the spool empties once the CP acks', async () => {
    spool = await openSpool({ dir: tempDir('spool') });
    const s = spool;
    const runId = newId('r');
    const records: EventRecord[] = [1, 2, 3].map((seq) => ({ run_id: runId, seq, event: { type: 'text', ts: seq, agent: 'a', text: `e${seq}` } }));
    await s.append(records);
    const handlers: { sender?: ReturnType<typeof createSender> } = {};
    const { client: c } = startClient({ onUp: () => handlers.sender?.onUp(), onAck: (k) => handlers.sender?.onAck(k) });
    handlers.sender = createSender(s, c);
    handlers.sender.kick();

    const first = await tunnel(0);
    await waitFor(() => framesOf(first, 'events').length >= 1, 10_000, 'events on the first tunnel');
    const sent = (t: FakeTunnel): unknown[] => framesOf(t, 'events').flatMap((f) => f.records as unknown[]);
    expect(sent(first)).toEqual(records);
    first.ws.terminate(); // no ack

    const second = await tunnel(1);
    await waitFor(() => sent(second).length === 3, 10_000, 'the resend');
    expect(sent(second)).toEqual(records);
    second.send({ type: 'ack', records: records.map((r) => ({ run_id: r.run_id, seq: r.seq })) });
    await waitFor(() => s.depth() === 0, 10_000, 'an empty spool');
  });

  it.each(['OKS_ERR_HOST_REVOKED', 'OKS_ERR_HOST_MISMATCH', 'OKS_ERR_CLIENT_CERT_UNTRUSTED'] as const)(
    'stops for good when the upgrade is refused with %s',
    async (code) => {
      cp.upgradeRefusal = { status: 403, code, message: `refused: ${code}` };
      const { seen } = startClient();
      await waitFor(() => seen.fatal.length === 1, 10_000, 'onFatal');
      expect(seen.fatal[0]).toEqual({ code, message: `refused: ${code}` });
      // with a 20 ms backoff base, several attempts would fit in this window if it kept trying
      await new Promise((r) => setTimeout(r, 300));
      expect(cp.requests.filter((r) => r.startsWith('UPGRADE'))).toHaveLength(1);
      expect(seen.up).toBe(0);
    },
  );

  it('keeps retrying after a refusal that is not fatal', async () => {
    cp.upgradeRefusal = { status: 500, code: 'OKS_ERR_INTERNAL', message: 'internal error' };
    const { seen } = startClient();
    await waitFor(() => cp.requests.filter((r) => r.startsWith('UPGRADE')).length >= 3, 10_000, '3 attempts');
    cp.upgradeRefusal = undefined;
    await waitFor(() => seen.up === 1, 10_000, 'the tunnel up');
    expect(seen.fatal).toEqual([]);
  });

  it('answers an invalid CP frame with OKS_ERR_BAD_FRAME and keeps working', async () => {
    const { seen, log } = startClient();
    const t = await tunnel(0);
    await waitFor(() => seen.up === 1, 10_000, 'up');
    t.ws.send('this is not json');
    t.send({ type: 'dispatch', envelope: { run_id: 'nope', agent: 'x' } });
    t.send({ type: 'no_such_frame' });
    await waitFor(() => framesOf(t, 'error').length === 3, 10_000, '3 error frames');
    for (const f of framesOf(t, 'error')) expect(f.code).toBe('OKS_ERR_BAD_FRAME');
    expect(String(framesOf(t, 'error')[1]?.message)).toContain('envelope.run_id');
    expect(log.lines().filter((l) => l.msg === 'invalid frame from the CP')).toHaveLength(3);

    const runId = newId('r');
    t.send({ type: 'dispatch', envelope: { run_id: runId, agent: 'probe' } });
    t.send({ type: 'cancel', run_id: runId });
    t.send({ type: 'ack', records: [{ run_id: runId, seq: 1 }] });
    await waitFor(() => seen.acks.length === 1, 10_000, 'the ack');
    expect(seen.dispatches).toEqual([{ run_id: runId, agent: 'probe', prompt: '', inputs: {}, dispatch: 'auto' }]);
    expect(seen.cancels).toEqual([[runId, 'cancelled by an operator']]);
    expect(t.closed).toBe(false);
  });

  it('answers dispatches with dispatch_ack and splits large batches into frames of at most 1000 records', async () => {
    const { client: c, seen } = startClient();
    const t = await tunnel(0);
    await waitFor(() => seen.up === 1, 10_000, 'up');
    const runId = newId('r');
    c.ackDispatch(runId, false, { code: 'OKS_ERR_AGENT_UNKNOWN', message: 'no agent named x' });
    c.send(Array.from({ length: 1500 }, (_, i) => ({ run_id: runId, seq: i + 1, event: { type: 'text', ts: 1, agent: 'a' } })));
    await waitFor(() => framesOf(t, 'events').length === 2, 10_000, 'two events frames');
    expect(framesOf(t, 'dispatch_ack')).toEqual([{ type: 'dispatch_ack', run_id: runId, accepted: false, error: { code: 'OKS_ERR_AGENT_UNKNOWN', message: 'no agent named x' } }]);
    expect(framesOf(t, 'events').map((f) => (f.records as unknown[]).length)).toEqual([1000, 500]);
  });

  it('reconnects when a newer tunnel replaced this one', async () => {
    const { seen } = startClient();
    const t = await tunnel(0);
    await waitFor(() => seen.up === 1, 10_000, 'up');
    t.send({ type: 'error', code: 'OKS_ERR_TUNNEL_REPLACED', message: 'replaced' });
    t.ws.close(4000, 'replaced');
    await waitFor(() => seen.up === 2, 10_000, 'up again');
    expect(seen.fatal).toEqual([]);
  });

  it('drops a CP that stays silent for 3 heartbeat intervals, then reconnects', async () => {
    cp.ackHeartbeats = false;
    const { seen } = startClient();
    const t = await tunnel(0);
    await waitFor(() => seen.up === 1, 10_000, 'up');
    const downAt = Date.now();
    await waitFor(() => seen.down.length === 1, 10_000, 'the silent tunnel dropped');
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(100);
    expect(t.frames.filter((f) => f.type === 'heartbeat').length).toBeGreaterThanOrEqual(2);
    await tunnel(1);
  });

  it('stops: closes the socket and does not reconnect', async () => {
    const { client: c, seen } = startClient();
    const t = await tunnel(0);
    await waitFor(() => seen.up === 1, 10_000, 'up');
    await c.stop();
    await waitFor(() => t.closed, 10_000, 'closed at the CP');
    expect(c.isUp()).toBe(false);
    await new Promise((r) => setTimeout(r, 150));
    expect(cp.tunnels).toHaveLength(1);
  });
});
