import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createDaimonCounters, recordCollector } from '../../../daimon/metrics/daimon-counters.js';
import { startMetricsServer } from '../../../daimon/metrics/metrics-server.js';
import type { MetricsServer } from '../../../daimon/metrics/metrics-server.js';
import { checkMetricsText, sampleValue } from '../../support/promtool-check.js';

const log = pino({ level: 'silent' });
const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('the daimon metrics endpoint', () => {
  it('serves the counters as Prometheus text that promtool accepts, read at scrape time', async () => {
    const counters = createDaimonCounters();
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, { counters, version: '9.8.7', log });
    servers.push(server);
    const url = `http://127.0.0.1:${server.address.port}`;

    counters.spool = { depth: () => 12, bytes: () => 3456 };
    counters.eventsSent += 20;
    counters.eventsAcked += 8;
    counters.tunnelConnected = 1;
    counters.tunnelReconnects += 2;
    counters.runsStarted += 3;
    counters.runsActive = 1;
    counters.runsFinished.completed += 1;
    counters.runsFinished.timeout += 1;
    counters.findings.HIGH += 4;
    recordCollector(counters, 'sre-health', 'disk', 0.2, false);
    recordCollector(counters, 'sre-health', 'disk', 4, true);
    // Names come from agent files: they are escaped, never break the format.
    recordCollector(counters, 'odd"agent', 'back\\slash\nline', 0.001, false);

    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(checkMetricsText(text).problems).toEqual([]);

    const value = (name: string, labels?: Record<string, string>): number | undefined => sampleValue(text, name, labels);
    expect(value('okesu_daimon_build_info', { version: '9.8.7' })).toBe(1);
    expect(value('okesu_daimon_spool_pending_events')).toBe(12);
    expect(value('okesu_daimon_spool_bytes')).toBe(3456);
    expect(value('okesu_daimon_events_sent_total')).toBe(20);
    expect(value('okesu_daimon_events_acked_total')).toBe(8);
    expect(value('okesu_daimon_tunnel_connected')).toBe(1);
    expect(value('okesu_daimon_tunnel_reconnects_total')).toBe(2);
    expect(value('okesu_daimon_runs_started_total')).toBe(3);
    expect(value('okesu_daimon_runs_active')).toBe(1);
    expect(value('okesu_daimon_runs_finished_total', { status: 'completed' })).toBe(1);
    expect(value('okesu_daimon_runs_finished_total', { status: 'timeout' })).toBe(1);
    expect(value('okesu_daimon_runs_finished_total', { status: 'cancelled' })).toBe(0);
    expect(value('okesu_daimon_findings_total', { severity: 'HIGH' })).toBe(4);
    expect(value('okesu_daimon_findings_total', { severity: 'INFO' })).toBe(0);
    const disk = { agent: 'sre-health', collector: 'disk' };
    expect(value('okesu_daimon_collector_duration_seconds_bucket', { ...disk, le: '0.1' })).toBe(0);
    expect(value('okesu_daimon_collector_duration_seconds_bucket', { ...disk, le: '0.25' })).toBe(1);
    expect(value('okesu_daimon_collector_duration_seconds_bucket', { ...disk, le: '5' })).toBe(2);
    expect(value('okesu_daimon_collector_duration_seconds_bucket', { ...disk, le: '+Inf' })).toBe(2);
    expect(value('okesu_daimon_collector_duration_seconds_count', disk)).toBe(2);
    expect(value('okesu_daimon_collector_duration_seconds_sum', disk)).toBeCloseTo(4.2);
    expect(value('okesu_daimon_collector_failures_total', disk)).toBe(1);
    expect(value('okesu_daimon_collector_failures_total', { agent: 'odd"agent', collector: 'back\\slash\nline' })).toBe(0);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);

    // Counters move between scrapes: each scrape reads them afresh.
    counters.eventsAcked += 12;
    counters.tunnelConnected = 0;
    const again = await (await fetch(`${url}/metrics`)).text();
    expect(sampleValue(again, 'okesu_daimon_events_acked_total')).toBe(20);
    expect(sampleValue(again, 'okesu_daimon_tunnel_connected')).toBe(0);
  });

  it('answers /health, 404 elsewhere and 405 to writes', async () => {
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, { counters: createDaimonCounters(), version: '1.0.0', log });
    servers.push(server);
    const url = `http://127.0.0.1:${server.address.port}`;
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', version: '1.0.0' });
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    const post = await fetch(`${url}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('refuses an address it cannot bind with a configuration error naming it', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      await expect(startMetricsServer({ host: '127.0.0.1', port }, { counters: createDaimonCounters(), version: '1', log }))
        .rejects.toMatchObject({ code: 'OKS_ERR_CONFIG', message: expect.stringMatching(new RegExp(`--metrics-listen 127\\.0\\.0\\.1:${port}: EADDRINUSE`)) });
    } finally {
      taken.close();
    }
  });
});
