import { join } from 'node:path';
import type { RawData } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { formatRuns, LINES_MAX, targetFrom } from '../../src/cli/commands/run-fan-out.js';
import { runViewSchema, type RunView } from '../../src/protocol/api.js';
import { hello, record, startCp, waitFor, type CpHarness, type TestSocket } from '../cp/cp-harness.js';
import { runView, testDeps } from './helpers.js';

describe('targetFrom', () => {
  it.each([
    [{ host: ['web-01'] }, { kind: 'host', host: 'web-01' }],
    [{ hosts: 'web-01' }, { kind: 'host', host: 'web-01' }],
    [{ host: ['web-01', 'web-01'] }, { kind: 'host', host: 'web-01' }],
    [{ host: ['a', 'b'], hosts: 'b, c,' }, { kind: 'hosts', hosts: ['a', 'b', 'c'] }],
    [{ selector: 'label:env=prod' }, { kind: 'selector', selector: 'label:env=prod' }],
    [{ all: true }, { kind: 'selector', selector: 'all' }],
  ])('%j targets %j', (opts, target) => {
    expect(targetFrom(opts)).toEqual(target);
  });

  it.each([
    [{}, /give the target/],
    [{ hosts: ' , ' }, /give the target/],
    [{ host: ['a'], all: true }, /alternatives/],
    [{ selector: 'all', all: true }, /alternatives/],
    [{ selector: 'env=prod' }, /--selector: expected "all" or "label:k=v/],
  ])('%j is a usage error', (opts, message) => {
    expect(targetFrom(opts)).toMatch(message);
  });
});

describe('formatRuns', () => {
  const runs = (n: number, over: (i: number) => Partial<RunView> = () => ({})): RunView[] =>
    Array.from({ length: n }, (_, i) => runView({ run_id: `r_${String(i).padStart(26, '0')}`, host: `web-${String(i).padStart(2, '0')}`, ...over(i) }));

  it(`prints one line per run up to ${LINES_MAX}`, () => {
    const lines = formatRuns(runs(2, (i) => (i === 1 ? { status: 'failed', error: 'web-01 is not reachable' } : {})), 'x');
    expect(lines).toEqual([
      'r_00000000000000000000000000  web-00  dispatched',
      'r_00000000000000000000000001  web-01  failed      web-01 is not reachable',
    ]);
  });

  it(`prints a summary and the runs that did not go well above ${LINES_MAX}`, () => {
    const lines = formatRuns(runs(50, (i) => ({ status: i < 45 ? 'completed' : i < 48 ? 'failed' : 'timeout' })), '50 runs of edr');
    expect(lines[0]).toBe('50 runs of edr: 45 completed, 3 failed, 2 timeout');
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['web-45', 'web-46', 'web-47', 'web-48', 'web-49']);
  });
});

describe('okesu run against a real CP', () => {
  let h: CpHarness;
  const tunnels = new Map<string, TestSocket>();

  /** A tunnel that accepts every dispatch and ends the run at once, like a trivial agent. */
  function autoComplete(t: TestSocket): void {
    t.ws.on('message', (data: RawData) => {
      const frame = JSON.parse(String(data)) as { type: string; envelope?: { run_id: string } };
      if (frame.type !== 'dispatch' || !frame.envelope) return;
      const runId = frame.envelope.run_id;
      t.send({ type: 'dispatch_ack', run_id: runId, accepted: true });
      t.send({ type: 'events', records: [record(runId, 0, { type: 'run_start' }), record(runId, 1, { type: 'run_end', status: 'completed' })] });
    });
  }

  beforeEach(async () => {
    h = await startCp();
    const join = (await h.mintJoin({ uses: 3 })).token;
    for (const [name, env] of [['web-01', 'prod'], ['web-02', 'prod'], ['dev-01', 'dev']] as const) {
      const tunnel = await h.connectHost(await h.registerHost(name, { token: join }), { hello: false });
      tunnel.send(hello({ labels: { env } }));
      autoComplete(tunnel);
      tunnels.set(name, tunnel);
    }
    await waitFor(async () => (await h.admin.hosts()).every((v) => v.connected && v.labels['env'] !== undefined), 5000, 'hosts up with labels');
  });
  afterEach(async () => {
    tunnels.clear();
    await h.close();
  });

  async function okesu(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const deps = testDeps({ env: { OKESU_CONFIG: join(h.stateDir, 'admin.yaml') }, now: Date.now });
    const code = await runCli(argv, deps);
    return { code, out: deps.stdout.text(), err: deps.stderr.text() };
  }

  it('--host H still makes one run and prints its id', async () => {
    const { code, out } = await okesu(['run', 'edr', '--host', 'web-01']);
    expect(code).toBe(0);
    const runs = await h.admin.listRuns();
    expect(runs).toHaveLength(1);
    expect(out).toBe(`${runs[0]?.run_id}\n`);
    expect((await h.admin.audit()).map((e) => e.action)).toContain('run.dispatch');
  });

  it('--host repeated fans out in one request and prints one line per run', async () => {
    const { code, out } = await okesu(['run', 'edr', '--host', 'web-01', '--host', 'dev-01']);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).slice(1, 3))).toEqual([['web-01', 'dispatched'], ['dev-01', 'dispatched']]);
    expect((await h.admin.audit()).filter((e) => e.action.startsWith('run.')).map((e) => e.action)).toEqual(['run.fan_out']);
  });

  it('--selector --wait --json waits for every selected run and prints them completed', async () => {
    const { code, out, err } = await okesu(['run', 'edr', '--selector', 'label:env=prod', '--wait', '--json']);
    expect(err).toMatch(/2 runs of edr: 2 dispatched; waiting/);
    expect(code).toBe(0);
    const runs = runViewSchema.array().parse(JSON.parse(out));
    expect(runs.map((r) => [r.host, r.status]).sort()).toEqual([['web-01', 'completed'], ['web-02', 'completed']]);
  });

  it('--all --wait exits 3 and says so when a run does not complete', async () => {
    // dev-01 refuses its dispatches from now on
    const dev = tunnels.get('dev-01') as TestSocket;
    dev.ws.removeAllListeners('message');
    dev.ws.on('message', (data: RawData) => {
      const frame = JSON.parse(String(data)) as { type: string; envelope?: { run_id: string } };
      if (frame.type === 'dispatch' && frame.envelope) dev.send({ type: 'dispatch_ack', run_id: frame.envelope.run_id, accepted: false, error: { code: 'OKS_ERR_AGENT_UNKNOWN', message: 'no edr here' } });
    });
    const { code, out, err } = await okesu(['run', 'edr', '--all', '--wait']);
    expect(code).toBe(3);
    const byHost = new Map(out.trim().split('\n').map((l) => [l.split(/\s+/)[1], l]));
    expect(byHost.get('web-01')).toMatch(/completed/);
    expect(byHost.get('dev-01')).toMatch(/failed\s+OKS_ERR_AGENT_UNKNOWN: no edr here/);
    expect(err).toMatch(/1 of 3 runs did not complete \(2 completed, 1 failed\)/);
  });

  it('refuses conflicting targets as a usage error, and an unknown host with the CP\'s message', async () => {
    const conflict = await okesu(['run', 'edr', '--host', 'web-01', '--all']);
    expect(conflict.code).toBe(2);
    expect(conflict.err).toMatch(/alternatives/);
    const unknown = await okesu(['run', 'edr', '--hosts', 'web-01,nowhere']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/OKS_ERR_NOT_FOUND: .*nowhere; nothing was dispatched/);
    expect(await h.admin.listRuns()).toHaveLength(0);
  });
});
