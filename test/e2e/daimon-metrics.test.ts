import { readdirSync, readFileSync, readlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostView } from '../../src/protocol/api.js';
import { DAIMON_METRICS, PROCESS_METRICS } from '../support/okesu-metric-names.js';
import { startPrometheus, type TestPrometheus } from '../support/prometheus-server.js';
import { checkMetricsText, sampleValue } from '../support/promtool-check.js';
import { okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, type OkesuProcess } from './harness.js';

const procs: OkesuProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
});

const ALERTS = join(import.meta.dirname, '..', '..', 'examples', 'monitoring', 'okesu-alerts.yml');

/** Debian's Prometheus scraping `target` every second with examples/monitoring's alert rules loaded. */
async function startDaimonPrometheus(target: string): Promise<TestPrometheus> {
  const prometheus = await startPrometheus(() => [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    `rule_files: [${JSON.stringify(ALERTS)}]`,
    'scrape_configs:',
    `  - { job_name: okesu-daimon, static_configs: [{ targets: [${JSON.stringify(target)}], labels: { host: metrics-01 } }] }`,
  ].join('\n'));
  cleanups.push(() => prometheus.stop());
  return prometheus;
}

/** Two collectors (one fails, optionally) and one HIGH finding from its command. */
const PROBE_AGENT = [
  '---',
  'name: metrics-probe',
  'version: 1.0.0',
  'provider: custom',
  'timeout: 1m',
  'collectors:',
  "  - { name: kernel, command: 'uname -s' }",
  "  - { name: broken, command: 'echo nope >&2; exit 3', optional: true }",
  'command: |',
  `  printf '%s\\n' '{"type":"finding","severity":"high","category":"config","title":"Probe finding","resource":"file:/etc/probe"}'`,
  '---',
  'Reports one finding.',
].join('\n');

/** TCP ports a process listens on (Linux: its socket fds matched against /proc/net/tcp{,6} in state LISTEN). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      // closed while we looked
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols[3] === '0A' && inodes.has(cols[9] ?? '')) ports.push(parseInt((cols[1] ?? '').split(':')[1] ?? '', 16));
    }
  }
  return ports;
}

/** The address the daimon logged for its metrics listener. */
function loggedMetricsPort(p: OkesuProcess): number | undefined {
  for (const line of p.stdoutLines) {
    if (!line.includes('metrics listening')) continue;
    const address = (JSON.parse(line) as { address: string }).address;
    return Number(address.slice(address.lastIndexOf(':') + 1));
  }
  return undefined;
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

describe('the daimon metrics endpoint (okesu daemon --metrics-listen)', () => {
  it('serves /metrics that promtool and a real Prometheus accept, and the counts move as a run executes', async () => {
    const sandbox = tempDir('daimon-metrics');
    const agents = join(sandbox, 'agents');
    mkdirSync(agents);
    writeFileSync(join(agents, 'metrics-probe.md'), PROBE_AGENT);
    const cp = await startCp(join(sandbox, 'cp'), 0, ['--agents', agents]);
    procs.push(cp.proc);
    const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
    const daimon = spawnOkesu(['daemon', '--cp', cp.url, '--token', token, '--state', join(sandbox, 'state'), '--hostname', 'metrics-01', '--metrics-listen', '127.0.0.1:0']);
    procs.push(daimon);
    const port = await waitFor('the metrics listener', () => {
      if (daimon.child.exitCode !== null) throw new Error(`daimon exited: ${daimon.stderr()}`);
      return loggedMetricsPort(daimon);
    });
    await waitFor('metrics-01 online', async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).some((h) => h.hostname === 'metrics-01' && h.connected));
    // The metrics listener is the daimon's only listening socket.
    expect(listeningPorts(daimon.child.pid as number)).toEqual([port]);

    const before = await scrape(port);
    expect(checkMetricsText(before).problems).toEqual([]);
    expect(sampleValue(before, 'okesu_daimon_tunnel_connected')).toBe(1);
    expect(sampleValue(before, 'okesu_daimon_runs_finished_total', { status: 'completed' })).toBe(0);
    expect(before).toMatch(/^okesu_daimon_build_info\{version="[^"]+"\} 1$/m);

    const run = await runOkesu(['run', 'metrics-probe', '--host', 'metrics-01', '--wait'], cp.env);
    expect(run.code, run.stderr).toBe(0);

    // Every event of the run acknowledged: the spool is empty again and nothing is in flight.
    const after = await waitFor('the run\'s events acknowledged', async () => {
      const text = await scrape(port);
      const acked = sampleValue(text, 'okesu_daimon_events_acked_total') ?? 0;
      return acked > 0 && acked === sampleValue(text, 'okesu_daimon_events_sent_total') && sampleValue(text, 'okesu_daimon_spool_pending_events') === 0 && text;
    });
    expect(checkMetricsText(after).problems).toEqual([]);
    const value = (name: string, labels?: Record<string, string>): number | undefined => sampleValue(after, name, labels);
    expect(value('okesu_daimon_runs_started_total')).toBe(1);
    expect(value('okesu_daimon_runs_finished_total', { status: 'completed' })).toBe(1);
    expect(value('okesu_daimon_runs_finished_total', { status: 'failed' })).toBe(0);
    expect(value('okesu_daimon_runs_active')).toBe(0);
    expect(value('okesu_daimon_findings_total', { severity: 'HIGH' })).toBe(1);
    expect(value('okesu_daimon_spool_bytes')).toBe(0);
    const kernel = { agent: 'metrics-probe', collector: 'kernel' };
    expect(value('okesu_daimon_collector_duration_seconds_count', kernel)).toBeGreaterThanOrEqual(1);
    expect(value('okesu_daimon_collector_duration_seconds_bucket', { ...kernel, le: '+Inf' })).toBe(value('okesu_daimon_collector_duration_seconds_count', kernel));
    expect(value('okesu_daimon_collector_failures_total', kernel)).toBe(0);
    expect(value('okesu_daimon_collector_failures_total', { agent: 'metrics-probe', collector: 'broken' })).toBe(1);
    expect(value('okesu_daimon_tunnel_reconnects_total')).toBe(0);
    // What examples/monitoring may use of the daimon is what it exports, with the same types.
    for (const [name, kind] of Object.entries({ ...DAIMON_METRICS, ...PROCESS_METRICS })) expect(after, name).toMatch(new RegExp(`^# TYPE ${name} ${kind}$`, 'm'));

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);

    // A real Prometheus scrapes it, and examples/monitoring's rules evaluate over what it scraped without error.
    const prometheus = await startDaimonPrometheus(`127.0.0.1:${port}`);
    await waitFor('Prometheus to scrape the run', async () => (await prometheus.query('okesu_daimon_runs_finished_total{status="completed"}'))[0]?.value === 1);
    expect(await prometheus.query('okesu_daimon_collector_failures_total{collector="broken"}')).toMatchObject([{ metric: { agent: 'metrics-probe', job: 'okesu-daimon' }, value: 1 }]);
    const rules = await waitFor('every rule evaluated', async () => {
      const all = await prometheus.rules();
      return all.length > 0 && all.every((r) => r.health !== 'unknown') && all;
    });
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError ?? r.health}`)).toEqual([]);
  });

  it('without the flag the daimon listens on nothing', async () => {
    const sandbox = tempDir('daimon-no-metrics');
    const cp = await startCp(join(sandbox, 'cp'));
    procs.push(cp.proc);
    const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
    const daimon = spawnOkesu(['daemon', '--cp', cp.url, '--token', token, '--state', join(sandbox, 'state'), '--hostname', 'quiet-01']);
    procs.push(daimon);
    await waitFor('quiet-01 online', async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).some((h) => h.hostname === 'quiet-01' && h.connected));
    expect(listeningPorts(daimon.child.pid as number)).toEqual([]);
    expect(daimon.stdoutLines.some((l) => l.includes('metrics listening'))).toBe(false);
  });

  it.each([
    [['--metrics-listen', '9464'], 2, /expected HOST:PORT/],
    [['--metrics-listen', 'metrics.example:9464'], 2, /not an IPv4 address or localhost/],
    [['--metrics-listen', '0.0.0.0:9464'], 1, /not a loopback address.*--metrics-allow-remote/],
    [['--metrics-allow-remote'], 1, /applies to --metrics-listen/],
  ])('refuses %j before starting anything', async (flags, code, message) => {
    const r = await runOkesu(['daemon', '--state', join(tempDir('daimon-bad-metrics'), 'state'), '--cp', 'https://127.0.0.1:1', ...flags]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it('carries the flags into the unit it prints (--print-unit), checked as at start', async () => {
    const unit = await runOkesu(['daemon', '--print-unit', '--metrics-listen', '[::1]:9465']);
    expect(unit.code, unit.stderr).toBe(0);
    expect(unit.stdout).toMatch(/^ExecStart=.* daemon --state \/var\/lib\/okesu --metrics-listen \[::1\]:9465$/m);
    const remote = await runOkesu(['daemon', '--print-unit', '--metrics-listen', '0.0.0.0:9465', '--metrics-allow-remote']);
    expect(remote.stdout).toMatch(/--metrics-listen 0\.0\.0\.0:9465 --metrics-allow-remote$/m);
    const refused = await runOkesu(['daemon', '--print-unit', '--metrics-listen', '0.0.0.0:9465']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not a loopback address/);
  });
});
