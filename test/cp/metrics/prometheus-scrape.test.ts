import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findingRecord, record, sendEvents, startCp, waitFor, type CpHarness } from '../cp-harness.js';
import { httpGet } from './metrics-text.js';
import { startPrometheus, type TestPrometheus } from '../../support/prometheus-server.js';
import { checkMetricsText } from '../../support/promtool-check.js';

describe('a real Prometheus scraping the CP', () => {
  let h: CpHarness | undefined;
  let prometheus: TestPrometheus | undefined;
  afterEach(async () => {
    await prometheus?.stop();
    prometheus = undefined;
    await h?.close();
    h = undefined;
  });

  it('scrapes both ways — the plain listener, and HTTPS with a viewer token — and sees a finding ingested; promtool finds nothing wrong with ours', { timeout: 60_000 }, async () => {
    h = await startCp({ options: { metricsListen: { host: '127.0.0.1', port: 0 } } });
    const cp = h;
    const plain = cp.cp.metricsAddress();
    if (!plain) throw new Error('no metrics listener');
    const viewer = (await cp.mintOperator('viewer', 'prometheus')).token;

    prometheus = await startPrometheus((dir) => {
      writeFileSync(join(dir, 'ca.pem'), cp.caPem);
      writeFileSync(join(dir, 'token'), viewer, { mode: 0o600 });
      return [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        '  - job_name: okesu-plain',
        `    static_configs: [{ targets: ["127.0.0.1:${plain.port}"] }]`,
        '  - job_name: okesu-https',
        '    scheme: https',
        `    authorization: { credentials_file: ${join(dir, 'token')} }`,
        `    tls_config: { ca_file: ${join(dir, 'ca.pem')} }`,
        `    static_configs: [{ targets: ["127.0.0.1:${cp.port}"] }]`,
        '',
      ].join('\n');
    });
    const prom = prometheus;
    const byJob = async (promql: string): Promise<Record<string, number>> =>
      Object.fromEntries((await prom.query(promql)).map((r) => [r.metric['job'] as string, r.value]));

    await waitFor(async () => {
      const up = await byJob('up');
      return up['okesu-plain'] === 1 && up['okesu-https'] === 1;
    }, 15_000, `both targets up (prometheus: ${prom.log()})`);

    // A host runs an agent that reports a HIGH finding.
    const host = await cp.registerHost('web-01');
    const tunnel = await cp.connectHost(host);
    const run = await cp.admin.createRun({ agent: 'edr', host: 'web-01' });
    await tunnel.nextOfType('dispatch');
    await sendEvents(tunnel, [record(run.run_id, 0, { type: 'run_start' }), findingRecord(run.run_id, 1, { severity: 'HIGH' }), record(run.run_id, 2, { type: 'run_end', status: 'completed' })]);

    const seen = await waitFor(async () => {
      const high = await byJob('okesu_findings_ingested_total{severity="high"}');
      return high['okesu-plain'] === 1 && high['okesu-https'] === 1 ? high : undefined;
    }, 15_000, 'the finding scraped by both jobs');
    expect(seen).toEqual({ 'okesu-plain': 1, 'okesu-https': 1 });
    // (Not its state: this test's host sends no heartbeats, so it turns stale within a second.)
    expect(await byJob('sum by (job) (okesu_hosts)')).toEqual({ 'okesu-plain': 1, 'okesu-https': 1 });
    expect(await byJob('okesu_build_info{version="test"}')).toEqual({ 'okesu-plain': 1, 'okesu-https': 1 });
    // A histogram Prometheus can compute with.
    const quantile = await prom.query('histogram_quantile(0.5, sum by (le) (okesu_run_duration_seconds_bucket{status="completed"}))');
    expect(quantile.length).toBe(1);

    // promtool: ours pass its parser and its lint with nothing to say; the whole exposition parses, and the only lint
    // remarks are on three of prom-client's default gauges (named `_total` upstream, not ours to rename).
    const exposition = (await httpGet(`http://127.0.0.1:${plain.port}/metrics`)).text;
    const ours = exposition.split('\n').filter((line) => /^(# (HELP|TYPE) )?okesu_/.test(line)).join('\n') + '\n';
    expect(checkMetricsText(ours)).toEqual({ code: 0, problems: [] });
    const all = checkMetricsText(exposition);
    expect(all.code).not.toBe(1);
    expect(all.problems).toEqual([]);
  });
});
