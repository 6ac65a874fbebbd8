import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findingRecord, heartbeat, record, sendEvents, startCp, waitFor, type CpHarness, type HostIdentity } from '../cp-harness.js';
import { httpGet, parseSamples, valueOf } from './metrics-text.js';
import { CP_METRICS } from '../../support/okesu-metric-names.js';

/** GET /metrics on the CP's HTTPS port with `token` (none when null). */
function scrape(h: CpHarness, token: string | null): Promise<{ status: number; contentType: string; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const req = https.request({ host: '127.0.0.1', port: h.port, path: '/metrics', headers, ca: h.caPem, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the CP\'s /metrics', () => {
  let h: CpHarness;
  let viewer: string;
  let web01: HostIdentity;
  beforeAll(async () => {
    h = await startCp({ options: { metricsListen: { host: '127.0.0.1', port: 0 } } });
    viewer = (await h.mintOperator('viewer', 'prometheus')).token;
    web01 = await h.registerHost('web-01');
    await h.registerHost('db-01');
  });
  afterAll(async () => {
    await h.close();
  });
  const metricsText = async (): Promise<string> => {
    const answer = await scrape(h, viewer);
    expect(answer.status).toBe(200);
    return answer.text;
  };

  it('needs an operator token on the HTTPS port: 401 without one or with a wrong one, 200 for a viewer, in the Prometheus text format', async () => {
    expect((await scrape(h, null)).status).toBe(401);
    expect((await scrape(h, `okt_${'0'.repeat(16)}_${'ab'.repeat(32)}`)).status).toBe(401);
    const ok = await scrape(h, viewer);
    expect(ok.status).toBe(200);
    expect(ok.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(valueOf(ok.text, 'okesu_build_info', { version: 'test' })).toBe(1);
    expect(valueOf(ok.text, 'okesu_replica_leader')).toBe(1);
    // Node's and the process's own metrics come with them.
    expect(ok.text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(ok.text).toMatch(/^nodejs_heap_size_used_bytes /m);
    // Jobs mode is off: the bucket scanner's metrics have no series.
    expect(parseSamples(ok.text).some((s) => s.name.startsWith('okesu_bucket_'))).toBe(false);
    // The two refused scrapes are operator authentication failures.
    expect(valueOf(ok.text, 'okesu_auth_failures_total', { kind: 'operator' })).toBeGreaterThanOrEqual(2);
    // What examples/monitoring's dashboard and alert rules query (test/support/okesu-metric-names.ts) is what the CP
    // exports, with the same type: every metric but the bucket's, which have no series without jobs mode.
    const types = new Map([...ok.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    for (const [name, kind] of Object.entries(CP_METRICS)) {
      if (!name.startsWith('okesu_bucket_')) expect(types.get(name), name).toBe(kind);
    }
  });

  it('counts what the fleet does: hosts, tunnels, heartbeats, dispatches, runs, events and findings by severity', async () => {
    const before = await metricsText();
    expect(valueOf(before, 'okesu_hosts', { state: 'offline' })).toBe(2);
    expect(valueOf(before, 'okesu_findings_ingested_total', { severity: 'high' })).toBe(0);

    const tunnel = await h.connectHost(web01);
    tunnel.send(heartbeat(1));
    tunnel.send(heartbeat(2));
    await tunnel.next((f) => f.type === 'heartbeat_ack' && f['seq'] === 2);

    // One run sent and run to its end with three findings; one refused by the host; one to a host no route reaches.
    const run = await h.admin.createRun({ agent: 'edr', host: 'web-01' });
    await tunnel.nextOfType('dispatch');
    await sendEvents(tunnel, [
      record(run.run_id, 0, { type: 'run_start' }),
      findingRecord(run.run_id, 1, { severity: 'HIGH' }),
      findingRecord(run.run_id, 2, { severity: 'critical' }),
      findingRecord(run.run_id, 3, { severity: 'HIGH', title: 'another' }),
      record(run.run_id, 4, { type: 'run_end', status: 'completed' }),
    ]);
    const refused = await h.admin.createRun({ agent: 'edr', host: 'web-01' });
    const from = tunnel.frames.length;
    tunnel.send({ type: 'dispatch_ack', run_id: refused.run_id, accepted: false, error: { code: 'OKS_ERR_AGENT_UNKNOWN', message: 'no edr here' } });
    await waitFor(async () => (await h.admin.getRun(refused.run_id)).status === 'failed', 5000, 'the refused run failed');
    const fanOut = await h.admin.createRuns({ agent: 'edr', hosts: ['db-01'] });
    expect(fanOut.failed).toBe(1);
    expect(tunnel.frames.length).toBeGreaterThanOrEqual(from);

    const text = await waitFor(async () => {
      const t = await metricsText();
      return valueOf(t, 'okesu_runs_finished_total', { status: 'failed' }) === 2 ? t : undefined;
    }, 5000, 'both failed runs counted');
    expect(valueOf(text, 'okesu_hosts', { state: 'online' })).toBe(1);
    expect(valueOf(text, 'okesu_hosts', { state: 'offline' })).toBe(1);
    expect(valueOf(text, 'okesu_tunnels_open')).toBe(1);
    expect(valueOf(text, 'okesu_heartbeats_total')).toBeGreaterThanOrEqual(2);
    expect(valueOf(text, 'okesu_dispatches_total', { result: 'sent' })).toBe(2);
    expect(valueOf(text, 'okesu_dispatches_total', { result: 'refused' })).toBe(1);
    expect(valueOf(text, 'okesu_dispatches_total', { result: 'failed' })).toBe(1);
    expect(valueOf(text, 'okesu_runs_started_total')).toBe(1);
    expect(valueOf(text, 'okesu_runs_finished_total', { status: 'completed' })).toBe(1);
    expect(valueOf(text, 'okesu_runs_active')).toBe(0);
    expect(valueOf(text, 'okesu_run_duration_seconds_count', { status: 'completed' })).toBe(1);
    expect(valueOf(text, 'okesu_run_duration_seconds_bucket', { status: 'completed', le: '+Inf' })).toBe(1);
    expect(valueOf(text, 'okesu_events_ingested_total')).toBe(5);
    expect(valueOf(text, 'okesu_findings_ingested_total', { severity: 'high' })).toBe(2);
    expect(valueOf(text, 'okesu_findings_ingested_total', { severity: 'critical' })).toBe(1);
    expect(valueOf(text, 'okesu_findings_ingested_total', { severity: 'low' })).toBe(0);
    expect(valueOf(text, 'okesu_ingest_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(valueOf(text, 'okesu_ingest_queue_depth')).toBe(0);
    expect(parseSamples(text).filter((s) => s.name === 'okesu_store_errors_total')).toEqual([]);
    // No label carries a host or agent name.
    for (const s of parseSamples(text).filter((x) => x.name.startsWith('okesu_'))) {
      expect(Object.values(s.labels).join(' ')).not.toMatch(/web-01|db-01|edr/);
    }
  });

  it('counts live operator streams', async () => {
    const stream = await h.openStream({}, viewer);
    if (!stream.ok) throw new Error('stream refused');
    const text = await metricsText();
    expect(valueOf(text, 'okesu_stream_clients')).toBe(1);
    expect(valueOf(text, 'okesu_operator_connections')).toBeGreaterThanOrEqual(1);
    stream.socket.terminate();
  });

  it('serves /metrics, /v1/health and /v1/ready on the plain listener without authentication, and nothing else', async () => {
    const address = h.cp.metricsAddress();
    if (!address) throw new Error('no metrics listener');
    const base = `http://127.0.0.1:${address.port}`;
    const metrics = await httpGet(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(valueOf(metrics.text, 'okesu_build_info', { version: 'test' })).toBe(1);
    expect(await httpGet(`${base}/v1/health`)).toMatchObject({ status: 200, text: JSON.stringify({ ok: true, version: 'test' }) });
    const ready = await httpGet(`${base}/v1/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toEqual({ ready: true, checks: { store: { ok: true } } });
    expect((await httpGet(`${base}/v1/hosts`)).status).toBe(404);
    expect((await httpGet(`${base}/metrics`, 'POST')).status).toBe(405);
  });

  it('serves what another part adds with addCollector; a failing collector leaves only itself out', async () => {
    // The notification outbox registers its two metrics itself, every kind × result from 0.
    let text = await metricsText();
    expect(valueOf(text, 'okesu_notify_outbox_pending')).toBe(0);
    expect(valueOf(text, 'okesu_notify_deliveries_total', { kind: 'slack', result: 'failed' })).toBe(0);
    let pending = 3;
    h.cp.metrics().addCollector({ name: 'okesu_test_pending', help: 'Things waiting.', type: 'gauge', collect: () => pending });
    h.cp.metrics().addCollector({
      name: 'okesu_test_things_total', help: 'Things done.', type: 'counter',
      collect: () => [{ labels: { kind: 'webhook', result: 'ok' }, value: 7 }, { labels: { kind: 'email', result: 'failed' }, value: 1 }],
    });
    h.cp.metrics().addCollector({ name: 'okesu_test_broken', help: 'Always fails.', type: 'gauge', collect: () => { throw new Error('nope'); } });
    expect(() => h.cp.metrics().addCollector({ name: 'okesu_notify_outbox_pending', help: 'again', type: 'gauge', collect: () => 0 })).toThrow(/already/);
    text = await metricsText();
    expect(valueOf(text, 'okesu_test_pending')).toBe(3);
    expect(valueOf(text, 'okesu_test_things_total', { kind: 'webhook', result: 'ok' })).toBe(7);
    expect(valueOf(text, 'okesu_test_things_total', { kind: 'email', result: 'failed' })).toBe(1);
    expect(text).toMatch(/^# TYPE okesu_test_things_total counter$/m);
    expect(parseSamples(text).some((s) => s.name === 'okesu_test_broken')).toBe(false);
    expect(valueOf(text, 'okesu_build_info', { version: 'test' })).toBe(1);
    pending = 0;
    text = await metricsText();
    expect(valueOf(text, 'okesu_test_pending')).toBe(0);
  });
});
