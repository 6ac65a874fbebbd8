import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cpFrameSchema } from '../../src/protocol/tunnel.js';
import type { HostView } from '../../src/protocol/api.js';
import {
  HEARTBEAT_MS, findingRecord, heartbeat, hello, record, runId, sendEvents, startCp, tickStart, waitFor, type CpHarness, type HostIdentity,
} from './cp-harness.js';

let h: CpHarness;
let web01: HostIdentity;
beforeEach(async () => {
  h = await startCp();
  web01 = await h.registerHost('web-01');
});
afterEach(async () => {
  await h.close();
});

const hostView = async (hostname: string): Promise<HostView | undefined> => (await h.admin.hosts()).find((x) => x.hostname === hostname);

describe('tunnel session', () => {
  it('greets with welcome carrying the configured heartbeat interval', async () => {
    const result = await h.openTunnel(web01);
    if (!result.ok) throw new Error(JSON.stringify(result.refusal));
    const welcome = await result.socket.nextOfType('welcome');
    expect(cpFrameSchema.safeParse(welcome).success).toBe(true);
    expect(welcome).toMatchObject({ hostname: 'web-01', heartbeat_interval_ms: HEARTBEAT_MS });
  });

  it('hello and heartbeats make the host online; silence makes it stale, then offline; a reconnect brings it back', async () => {
    // Transitions are watched on the live stream, so a slow poll cannot miss the short stale window.
    const opened = await h.openStream({ kinds: 'host' });
    if (!opened.ok) throw new Error('stream refused');
    const states = opened.socket;
    await states.nextOfType('ready');

    const tunnel = await h.connectHost(web01, { hello: false });
    tunnel.send(hello({ version: '1.2.3', labels: { env: 'prod' } }));
    let seq = 0;
    const beat = (): void => tunnel.send(heartbeat(++seq));
    beat();
    const beating = setInterval(beat, HEARTBEAT_MS / 2);
    let online: HostView | undefined;
    try {
      online = await waitFor(async () => {
        const v = await hostView('web-01');
        return v?.state === 'online' && (v.heartbeat_seq ?? 0) >= 3 ? v : undefined;
      });
    } finally {
      clearInterval(beating);
    }
    expect(online).toMatchObject({ connected: true, version: '1.2.3', labels: { env: 'prod' }, os: 'linux' });
    await tunnel.next((f) => f.type === 'heartbeat_ack' && f['seq'] === seq);

    // The tunnel stays open (pings are answered) but no heartbeat comes: liveness follows "last heard".
    const sawState = (state: string) => (f: Record<string, unknown>) => f['type'] === 'host' && (f['host'] as HostView).state === state;
    await states.next(sawState('offline'), { timeoutMs: 30 * HEARTBEAT_MS });
    const order = states.ofType('host').map((f) => (f['host'] as HostView).state).filter((st, i, all) => st !== all[i - 1]);
    expect(order.slice(-3)).toEqual(['online', 'stale', 'offline']);
    expect(await hostView('web-01')).toMatchObject({ state: 'offline', connected: true, heartbeat_seq: seq });

    tunnel.terminate();
    await waitFor(async () => (await hostView('web-01'))?.connected === false, 5000, 'disconnected');
    const again = await h.connectHost(web01);
    again.send(heartbeat(seq + 1));
    await waitFor(async () => {
      const v = await hostView('web-01');
      return v?.state === 'online' && v.connected && v.heartbeat_seq === seq + 1;
    });
  });

  it('a second tunnel of the same identity replaces the first', async () => {
    const first = await h.connectHost(web01);
    const second = await h.connectHost(web01);
    const error = await first.nextOfType('error');
    expect(error['code']).toBe('OKS_ERR_TUNNEL_REPLACED');
    const closed = await first.waitClosed();
    expect(closed.code).toBe(4000);
    // the error came before the close, and the new tunnel keeps working
    expect(first.frames.at(-1)).toEqual(error);
    second.send(heartbeat(7));
    await second.next((f) => f.type === 'heartbeat_ack' && f['seq'] === 7);
    expect(second.isOpen()).toBe(true);
    expect((await hostView('web-01'))?.connected).toBe(true);
  });

  it('stops promptly with a tunnel and a stream still open, closing both', async () => {
    const tunnel = await h.connectHost(web01);
    const stream = await h.openStream();
    if (!stream.ok) throw new Error('stream refused');
    await h.cp.stop();
    await tunnel.waitClosed();
    await stream.socket.waitClosed();
  });
});

describe('tunnel ingest', () => {
  it('acknowledges an events frame with the same keys', async () => {
    const tunnel = await h.connectHost(web01);
    const run = runId();
    const records = [tickStart(run, 1), record(run, 2, { type: 'text', text: 'hi' }), record(run, 3, { type: 'text', text: 'bye' })];
    const ack = await sendEvents(tunnel, records);
    expect(ack['records']).toEqual([{ run_id: run, seq: 1 }, { run_id: run, seq: 2 }, { run_id: run, seq: 3 }]);
    const page = await h.admin.runEvents(run, 0, 0);
    expect(page.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(page.run).toMatchObject({ host: 'web-01', status: 'running', events: 3 });
  });

  it('acknowledges resent records again but stores them once', async () => {
    const tunnel = await h.connectHost(web01);
    const run = runId();
    const records = [tickStart(run, 1), findingRecord(run, 2), record(run, 3, { type: 'text', text: 'x' })];
    await sendEvents(tunnel, records);
    const ack = await sendEvents(tunnel, records);
    expect(ack['records']).toHaveLength(3);

    const page = await h.admin.runEvents(run, 0, 0);
    expect(page.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(page.run.events).toBe(3);
    expect(page.run.findings).toBe(1);
    expect((await h.admin.findings()).findings).toHaveLength(1);

    // after a reconnect too (the daimon resends its unacknowledged spool)
    tunnel.terminate();
    const again = await h.connectHost(web01);
    await sendEvents(again, records);
    expect((await h.admin.findings()).findings).toHaveLength(1);
  });

  it('stores a finding with a fingerprint, the hostname from the certificate and counts it in the summary', async () => {
    const tunnel = await h.connectHost(web01);
    const run = runId();
    await sendEvents(tunnel, [
      tickStart(run),
      findingRecord(run, 1, {
        host: 'db-99', severity: 'critical', title: 'Reverse shell from nginx', category: 'process',
        resource: 'pid:1337, binary:/usr/bin/nc', evidence: 'connect to 203.0.113.7:4444',
      }),
    ]);
    const { findings } = await h.admin.findings();
    expect(findings).toHaveLength(1);
    const f = findings[0];
    expect(f).toMatchObject({ host: 'web-01', agent: 'edr', run_id: run, seq: 1, severity: 'CRITICAL', title: 'Reverse shell from nginx' });
    expect(f?.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(f?.indicators).toContain('ip:203.0.113.7');
    const event = (await h.admin.runEvents(run, 0, 0)).events.find((e) => e.type === 'finding');
    expect(event?.host).toBe('web-01');

    const summary = await h.admin.findingsSummary();
    expect(summary).toMatchObject({ total: 1, groups: 1, by_category: { process: 1 }, by_agent: { edr: 1 } });
    expect(summary.by_severity).toMatchObject({ CRITICAL: 1, HIGH: 0 });
    expect((await h.admin.findings({ host: 'db-99' })).findings).toHaveLength(0);
  });

  it('acknowledges but does not store records for a run that belongs to another host', async () => {
    const web02 = await h.registerHost('web-02');
    const tunnel01 = await h.connectHost(web01);
    const tunnel02 = await h.connectHost(web02);
    const run = (await h.admin.createRun({ agent: 'edr', host: 'web-01' })).run_id;
    await tunnel01.nextOfType('dispatch');
    await sendEvents(tunnel01, [record(run, 1, { type: 'run_start' })]);

    const foreign = [record(run, 2, { type: 'text', text: 'not mine' }), findingRecord(run, 3)];
    const ack = await sendEvents(tunnel02, foreign);
    expect(ack['records']).toEqual([{ run_id: run, seq: 2 }, { run_id: run, seq: 3 }]);

    const page = await h.admin.runEvents(run, 0, 0);
    expect(page.events.map((e) => e.seq)).toEqual([1]);
    expect(page.run).toMatchObject({ host: 'web-01', events: 1, findings: 0 });
    expect((await h.admin.findings()).findings).toHaveLength(0);
    // web-01 can still send its own seq 2 afterwards: the foreign record did not take the slot
    await sendEvents(tunnel01, [record(run, 2, { type: 'text', text: 'mine' })]);
    expect((await h.admin.runEvents(run, 0, 0)).events.map((e) => e.seq)).toEqual([1, 2]);
  });
});
