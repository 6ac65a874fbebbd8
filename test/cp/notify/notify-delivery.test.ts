import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asTicks, findingRecord, runId, sendEvents, startCp, waitFor, type CpHarness, type HostIdentity } from '../cp-harness.js';
import { WebhookReceiver } from './webhook-receiver.js';
import { NOTIFY_CURSOR_KEY } from '../../../src/cp/notify/enqueuer.js';
import type { CreateChannelInput } from '../../../src/protocol/notify-api.js';

const SECRET = 'whsec-test-0123456789abcdef';
/** Short polls and backoffs: a retry comes within ~50 ms instead of 10 s. */
const NOTIFY = { timing: { pollMs: 20, timeoutMs: 5000, retry: { baseMs: 20, maxMs: 60 } } };

let h: CpHarness;
let rx: WebhookReceiver;
let web01: HostIdentity;
beforeEach(async () => {
  rx = new WebhookReceiver(SECRET);
  await rx.start();
  h = await startCp({ options: { notify: NOTIFY } });
  web01 = await h.registerHost('web-01');
});
afterEach(async () => {
  await h.close();
  await rx.stop();
});

const webhook = (name: string, over: Partial<Extract<CreateChannelInput, { kind: 'webhook' }>> = {}): CreateChannelInput =>
  ({ kind: 'webhook', name, url: rx.url, secret: SECRET, ...over });

/** Ingests findings through a daimon's tunnel (the real ingest path), one run. */
async function ingest(...findings: Record<string, unknown>[]): Promise<void> {
  const tunnel = await h.connectHost(web01);
  const run = runId();
  await sendEvents(tunnel, asTicks(findings.map((f, i) => findingRecord(run, i + 1, f))));
  tunnel.terminate();
}

/** Waits until the enqueuer has handled the whole feed and nothing is pending: whatever would be sent, was. */
async function settled(): Promise<void> {
  const st = h.cp.store();
  await waitFor(() => Number(st.meta.get(NOTIFY_CURSOR_KEY)) >= st.feed.head() && h.cp.notifier()?.stats().pending === 0, 5000, 'the outbox to settle');
}

describe('alert delivery through a webhook', () => {
  it('sends a HIGH finding once, signed with a link back; a repeat of its group and a LOW finding send nothing', async () => {
    await h.admin.addChannel(webhook('ops'));
    await ingest({ title: 'reverse shell', resource: 'binary:/tmp/nc' });
    await waitFor(() => rx.delivered().length === 1, 5000, 'the delivery');
    const body = rx.delivered()[0]?.body as { type: string; delivery_id: string; channel: string; finding: { title: string; link: { id: number; url: string } } };
    expect(body).toMatchObject({ type: 'okesu.finding', channel: 'ops', finding: { title: 'reverse shell' } });
    expect(body.finding.link.url).toBe(`${h.url}/v1/findings/${body.finding.link.id}`);
    expect(rx.received[0]?.delivery).toBe(body.delivery_id);

    await ingest({ title: 'reverse shell', resource: 'binary:/tmp/nc' }, { title: 'odd cron', severity: 'LOW', resource: 'file:/etc/cron.d/x' });
    await settled();
    expect(rx.received).toHaveLength(1);
    const log = await h.admin.deliveries({ channel: 'ops' });
    expect(log).toEqual([expect.objectContaining({ state: 'delivered', kind: 'finding', attempts: [expect.objectContaining({ outcome: 'delivered', detail: 'HTTP 200' })] })]);
  });

  it('retries a 503 with backoff and delivers once, three attempts in the log', async () => {
    rx.script = [503, 503];
    await h.admin.addChannel(webhook('ops'));
    await ingest({ title: 'miner', resource: 'binary:/tmp/xmr' });
    await waitFor(() => rx.delivered().length === 1, 5000, 'the delivery');
    await settled();
    expect(rx.received.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(new Set(rx.received.map((r) => r.delivery)).size).toBe(1);
    const [d] = await h.admin.deliveries({ channel: 'ops' });
    expect(d?.state).toBe('delivered');
    expect(d?.attempts.map((a) => a.outcome)).toEqual(['retry', 'retry', 'delivered']);
    expect(h.cp.notifier()?.stats()).toEqual({ pending: 0, delivered: 1, failed: 0 });
  });

  it('gives up at once on a 400 (not retried)', async () => {
    rx.script = [400];
    await h.admin.addChannel(webhook('ops'));
    await ingest({ title: 'miner', resource: 'binary:/tmp/xmr' });
    await waitFor(async () => (await h.admin.deliveries())[0]?.state === 'failed', 5000, 'the failure');
    await settled();
    expect(rx.received.map((r) => r.status)).toEqual([400]);
    const [d] = await h.admin.deliveries();
    expect(d?.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'failed', detail: 'HTTP 400' })]);
  });

  it('delivers exactly once what was pending while the receiver was down across a CP restart', async () => {
    await h.admin.addChannel(webhook('ops'));
    await rx.stop();
    await ingest({ title: 'implant', resource: 'binary:/usr/lib/x.so' });
    // Enqueued and tried at least once against the dead endpoint.
    await waitFor(async () => ((await h.admin.deliveries())[0]?.attempts.length ?? 0) >= 1, 5000, 'a failed attempt');
    await h.cp.stop();
    await rx.start();
    await h.boot();
    await waitFor(() => rx.delivered().length === 1, 5000, 'the delivery after the restart');
    await settled();
    expect(rx.delivered()).toHaveLength(1);
    const [d] = await h.admin.deliveries();
    expect(d?.state).toBe('delivered');
    expect(d?.attempts.at(-1)?.outcome).toBe('delivered');
    expect(d?.attempts.slice(0, -1).every((a) => a.outcome === 'retry' && a.detail.startsWith('network:'))).toBe(true);
  });

  it('a first channel starts from its own creation: a finding stored while no channel existed is not sent', async () => {
    // With no channel the enqueuer writes nothing (no cursor advance per nudge); adding the first channel moves the
    // cursor to the feed's head in the same transaction.
    await ingest({ title: 'before any channel', resource: 'binary:/tmp/early' });
    await h.admin.addChannel(webhook('ops'));
    await ingest({ title: 'after the channel', resource: 'binary:/tmp/late' });
    await waitFor(() => rx.delivered().length === 1, 5000, 'the delivery');
    await settled();
    expect(rx.received.map((r) => (r.body['finding'] as { title: string }).title)).toEqual(['after the channel']);
  });

  it('sends nothing again after a restart: the enqueue cursor and the delivered state are durable', async () => {
    await h.admin.addChannel(webhook('ops'));
    await ingest({ title: 'late', resource: 'binary:/tmp/late' });
    await waitFor(() => rx.delivered().length === 1, 5000, 'the delivery');
    await settled();
    await h.restart();
    await ingest({ title: 'after', resource: 'binary:/tmp/after' });
    await waitFor(() => rx.delivered().length === 2, 5000, 'the second delivery');
    await settled();
    expect(rx.received.map((r) => (r.body['finding'] as { title: string }).title)).toEqual(['late', 'after']);
  });

  it('a hung endpoint holds one slot: another channel is delivered meanwhile', async () => {
    const slow = new WebhookReceiver(SECRET);
    slow.hang = true;
    await slow.start();
    try {
      await h.admin.addChannel(webhook('slow', { url: slow.url }));
      await h.admin.addChannel(webhook('fast'));
      await ingest(...['a', 'b', 'c'].map((x) => ({ title: `f ${x}`, resource: `binary:/tmp/${x}` })));
      await waitFor(() => rx.delivered().length === 3, 4000, 'the fast channel, within the slow one\'s first timeout');
      // One attempt at a time per channel: the hung endpoint has seen one request only.
      expect(slow.received).toHaveLength(1);
    } finally {
      await slow.stop();
    }
  });

  it('gathers a burst beyond max_groups into one digest at the end of the window', async () => {
    await h.admin.addChannel(webhook('ops', { rules: { digest: { max_groups: 2, window_ms: 1000 } } }));
    await ingest(...['a', 'b', 'c', 'd', 'e'].map((x) => ({ title: `burst ${x}`, resource: `binary:/tmp/${x}` })));
    await waitFor(() => rx.delivered().length === 3, 5000, 'two findings and a digest');
    const types = rx.delivered().map((r) => r.body['type']);
    expect(types).toEqual(['okesu.finding', 'okesu.finding', 'okesu.digest']);
    expect(rx.delivered()[2]?.body).toMatchObject({ total: 3, findings: [{ title: 'burst c' }, { title: 'burst d' }, { title: 'burst e' }] });
  });

  it('filters by agent, host, host label and category', async () => {
    await h.admin.addChannel(webhook('other-agent', { rules: { agents: ['other-*'], min_severity: 'low' } }));
    await h.admin.addChannel(webhook('prod', { rules: { labels: { env: 'prod*' }, min_severity: 'low' } }));
    await h.admin.addChannel(webhook('net', { rules: { hosts: ['web-*'], categories: ['network'], min_severity: 'low' } }));
    await h.admin.setHostLabels('web-01', { set: { env: 'staging' } });
    await ingest({ title: 'proc', category: 'process', resource: 'binary:/a' }, { title: 'conn', category: 'network', resource: 'ip:10.0.0.1' });
    await settled();
    expect(rx.delivered().map((r) => `${String(r.body['channel'])}:${String((r.body['finding'] as { title: string }).title)}`)).toEqual(['net:conn']);
    await h.admin.setHostLabels('web-01', { set: { env: 'production' } });
    await ingest({ title: 'proc2', category: 'process', resource: 'binary:/b' });
    await waitFor(() => rx.delivered().some((r) => r.body['channel'] === 'prod'), 5000, 'the prod channel');
  });

  it('keeps secrets sealed: views say "set", the store holds no plaintext, the key file is 0600; viewers list but may not add', async () => {
    const view = await h.admin.addChannel(webhook('ops'));
    expect(view.target).toEqual({ url: rx.url, secret: 'set' });
    expect(JSON.stringify(await h.admin.listChannels())).not.toContain(SECRET);
    const row = h.cp.store().notify.getChannel('ops');
    expect(`${row?.config} ${row?.sealed}`).not.toContain(SECRET);
    expect(statSync(join(h.stateDir, 'notify.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(h.stateDir, 'cp.db')).includes(SECRET)).toBe(false);
    const viewer = h.client((await h.mintOperator('viewer')).token);
    expect((await viewer.listChannels()).map((c) => c.name)).toEqual(['ops']);
    await expect(viewer.addChannel(webhook('x'))).rejects.toMatchObject({ code: 'OKS_ERR_FORBIDDEN' });
    await expect(viewer.testChannel('ops')).rejects.toMatchObject({ code: 'OKS_ERR_FORBIDDEN' });
  });

  it('notify test sends a signed test message now and logs it', async () => {
    await h.admin.addChannel(webhook('ops'));
    const res = await h.admin.testChannel('ops');
    expect(res).toMatchObject({ channel: 'ops', ok: true, detail: 'HTTP 200' });
    expect(rx.delivered()).toHaveLength(1);
    rx.script = [401];
    await expect(h.admin.testChannel('ops')).resolves.toMatchObject({ ok: false, detail: 'HTTP 401', retryable: false });
    expect((await h.admin.deliveries({ channel: 'ops' })).map((d) => `${d.kind}:${d.state}`)).toEqual(['test:failed', 'test:delivered']);
    await h.admin.removeChannel('ops');
    expect(await h.admin.listChannels()).toEqual([]);
    await expect(h.admin.testChannel('ops')).rejects.toMatchObject({ code: 'OKS_ERR_NOT_FOUND' });
  });
});
