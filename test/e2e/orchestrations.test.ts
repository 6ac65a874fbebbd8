import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostView } from '../../src/protocol/api.js';
import type { OrchestrationRunView } from '../../src/protocol/orchestration-api.js';
import { TEST_AGENTS, okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, type CpProcess, type OkesuProcess } from './harness.js';

// Three real daimons on one real CP; the test agents (orch-echo, orch-sleep) are on the hosts' own agent dirs.
const HOSTS = ['e2e-o1', 'e2e-o2', 'e2e-o3'];
const procs: OkesuProcess[] = [];
let cp: CpProcess;
let cpDir: string;
let specs: string;
const daimons = new Map<string, { state: string; proc: OkesuProcess }>();

const track = (p: OkesuProcess): OkesuProcess => (procs.push(p), p);
const startDaimon = (host: string, state: string, extra: string[] = []): OkesuProcess =>
  track(spawnOkesu(['daemon', '--cp', cp.url, '--state', state, '--hostname', host, '--log-level', 'warn', '--agents', TEST_AGENTS, ...extra]));
const spec = (name: string, lines: string[]): string => {
  const file = join(specs, `${name}.yaml`);
  writeFileSync(file, [`name: ${name}`, ...lines, ''].join('\n'));
  return file;
};
const show = (id: string) => okesuJson<OrchestrationRunView>(['orchestrate', 'show', id, '--json'], cp.env);
const start = async (file: string, inputs: string[] = []): Promise<OrchestrationRunView> => {
  const r = await runOkesu(['orchestrate', 'run', file, '--json', ...inputs.flatMap((i) => ['--input', i])], cp.env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as OrchestrationRunView;
};
const until = (id: string, status: OrchestrationRunView['status'], timeoutMs = 60_000) =>
  waitFor(`run ${id} ${status}`, async () => {
    const run = await show(id);
    return run.status === status ? run : undefined;
  }, timeoutMs);
const step = (run: OrchestrationRunView, id: string) => {
  const s = run.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${JSON.stringify(run.steps.map((x) => x.id))}`);
  return s;
};

beforeAll(async () => {
  cpDir = tempDir('orch-cp');
  specs = tempDir('orch-specs');
  cp = await startCp(cpDir);
  for (const [i, host] of HOSTS.entries()) {
    const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
    const state = tempDir(`orch-${host}`);
    daimons.set(host, { state, proc: startDaimon(host, state, ['--token', token, '--label', `role=${i < 2 ? 'web' : 'db'}`]) });
  }
  await waitFor('three daimons online', async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).filter((h) => h.connected).length === 3, 60_000);
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
  await stop(cp?.proc, 'SIGKILL');
});

describe('orchestrations across three real daimons', () => {
  it('fans out, passes results between steps, skips by when, waits for approval, continues on error and times out a step', async () => {
    const file = spec('e2e-flow', [
      'inputs: { token: { type: string, required: true } }',
      'steps:',
      '  - { id: first, agent: orch-echo, node: e2e-o1, inputs: { x: "{{trigger.token}}" } }',
      '  - id: fan',
      '    agent: orch-echo',
      '    nodes: [e2e-o1, e2e-o2, e2e-o3]',
      '    inputs: { x: "{{first.result.x}}-fan", fail_on: e2e-o3 }',
      '    continue_on_error: true',
      '  - { id: never, agent: orch-echo, node: e2e-o2, when: "{{first.result.x == \'nope\'}}" }',
      '  - { id: gate, agent: orch-echo, node: e2e-o2, prompt: "contain {{first.result.x}} on {{fan.nodes | length}} hosts", approval: required }',
      '  - { id: slow, agent: orch-sleep, node: e2e-o1, inputs: { seconds: 60 }, timeout: 2s, continue_on_error: true }',
      '  - { id: last, agent: orch-echo, nodes_selector: "label:role=db", inputs: { x: "{{fan.byNode[\'e2e-o2\'].result.x}}" } }',
    ]);
    const run = await start(file, ['token=abc']);
    const waiting = await until(run.id, 'approval_required');
    expect(step(waiting, 'first')).toMatchObject({ status: 'completed', result: { x: 'abc', host: 'e2e-o1' } });
    const fan = step(waiting, 'fan');
    expect(fan.status).toBe('failed');
    expect(fan.hosts.map((h) => [h.host, h.status])).toEqual([['e2e-o1', 'completed'], ['e2e-o2', 'completed'], ['e2e-o3', 'failed']]);
    expect(step(waiting, 'never').status).toBe('skipped');
    // The operator sees exactly what they approve: the prompt is rendered before the gate.
    expect(step(waiting, 'gate')).toMatchObject({ status: 'waiting_approval', prompt: 'contain abc on 3 hosts' });

    const approved = await runOkesu(['orchestrate', 'approve', run.id, 'gate'], cp.env);
    expect(approved.code, approved.stderr).toBe(0);
    const done = await until(run.id, 'completed');
    expect(step(done, 'gate')).toMatchObject({ status: 'completed', result: { prompt: 'contain abc on 3 hosts' } });
    expect(step(done, 'slow').status).toBe('failed');
    expect(step(done, 'slow').hosts[0]?.error ?? step(done, 'slow').error).toMatch(/timeout|timed out/i);
    expect(step(done, 'last')).toMatchObject({ status: 'completed', result: { x: 'abc-fan', host: 'e2e-o3' } });
  });

  it('ends the run when an approval is rejected, and records who rejected it', async () => {
    const file = spec('e2e-reject', ['steps:', '  - { id: gate, agent: orch-echo, node: e2e-o1, approval: required }', '  - { id: after, agent: orch-echo, node: e2e-o1 }']);
    const run = await start(file);
    await until(run.id, 'approval_required');
    const rejected = await runOkesu(['orchestrate', 'reject', run.id, 'gate', '--reason', 'not now'], cp.env);
    expect(rejected.code, rejected.stderr).toBe(0);
    const done = await until(run.id, 'failed');
    expect(step(done, 'gate').error).toMatch(/rejected by .*not now/);
    expect(step(done, 'after').status).toBe('skipped');
  });

  it('finishes a run whose CP was killed and restarted while a step was in flight', async () => {
    const file = spec('e2e-restart', [
      'steps:',
      '  - { id: sleep, agent: orch-sleep, node: e2e-o2, inputs: { seconds: 4 } }',
      '  - { id: after, agent: orch-echo, node: e2e-o3, inputs: { x: "{{sleep.result.slept}}" } }',
    ]);
    const run = await start(file);
    await waitFor('the sleep step running', async () => step(await show(run.id), 'sleep').status === 'running');
    await stop(cp.proc, 'SIGKILL');
    cp = await startCp(cpDir, cp.port);
    const done = await until(run.id, 'completed');
    expect(step(done, 'sleep')).toMatchObject({ status: 'completed', result: { slept: 4 } });
    expect(step(done, 'after').result).toMatchObject({ x: '4' });
  });

  it('after a CP restart, holds a step for a host that has not reconnected yet instead of failing it', async () => {
    const file = spec('e2e-late-host', [
      'steps:',
      '  - { id: sleep, agent: orch-sleep, node: e2e-o2, inputs: { seconds: 3 } }',
      '  - { id: after, agent: orch-echo, node: e2e-o3, inputs: { x: late } }',
    ]);
    const run = await start(file);
    await waitFor('the sleep step running', async () => step(await show(run.id), 'sleep').status === 'running');
    const o3 = daimons.get('e2e-o3');
    if (!o3) throw new Error('no e2e-o3');
    await stop(o3.proc);
    await stop(cp.proc, 'SIGKILL');
    cp = await startCp(cpDir, cp.port);
    // The sleep ends and reaches the new CP while e2e-o3 is still down: its step must wait for it.
    await waitFor('the sleep step completed', async () => step(await show(run.id), 'sleep').status === 'completed');
    expect(step(await show(run.id), 'after').hosts.every((h) => h.status !== 'failed')).toBe(true);
    o3.proc = startDaimon('e2e-o3', o3.state);
    const done = await until(run.id, 'completed');
    expect(step(done, 'after')).toMatchObject({ status: 'completed', result: { x: 'late', host: 'e2e-o3' } });
  });

  it('runs the shipped examples against the built-in agents (no model key: the investigator reports nothing, the gated steps are skipped)', async () => {
    // The CP was restarted by the tests before: the daimons reconnect with backoff and jitter, so wait for them.
    await waitFor('three daimons online', async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).filter((h) => h.connected).length === 3, 60_000);
    const examples = join(import.meta.dirname, '..', '..', 'examples');
    for (const file of ['c2-callback-triage.yaml', 'fleet-ioc-sweep.yaml']) {
      const applied = await runOkesu(['orchestrate', 'apply', join(examples, file)], cp.env);
      expect(applied.code, applied.stderr).toBe(0);
    }
    const triage = await start('c2-callback-triage', ['host=e2e-o1', 'pid=1']);
    const triaged = await until(triage.id, 'completed');
    expect(step(triaged, 'scan')).toMatchObject({ status: 'completed', hosts: [expect.objectContaining({ host: 'e2e-o1', status: 'completed' })] });
    expect(step(triaged, 'contain').status).toBe('skipped');

    const sweep = await start('fleet-ioc-sweep', ['ioc=/nonexistent/okesu-e2e-ioc', 'selector=label:role=web']);
    const swept = await until(sweep.id, 'completed');
    expect(step(swept, 'sweep').hosts.map((h) => [h.host, h.status])).toEqual([['e2e-o1', 'completed'], ['e2e-o2', 'completed']]);
    expect(step(swept, 'snapshot').status).toBe('skipped');
  });

  it('starts a run once per new matching finding when a finding trigger is applied', async () => {
    const file = spec('e2e-on-finding', [
      'triggers:',
      "  - finding: \"finding.agent == 'orch-echo' && finding.title contains 'Echo finding'\"",
      'steps:',
      '  - { id: look, agent: orch-echo, node: "{{trigger.host}}", inputs: { x: "{{trigger.title}}" } }',
    ]);
    const applied = await runOkesu(['orchestrate', 'apply', file], cp.env);
    expect(applied.code, applied.stderr).toBe(0);
    for (const tag of ['t1', 't2']) {
      const r = await runOkesu(['run', 'orch-echo', '--host', 'e2e-o3', '--input', `finding=${tag}`, '--wait'], cp.env);
      expect(r.code, r.stderr).toBe(0);
    }
    const triggered = await waitFor('two triggered runs completed', async () => {
      const runs = (await okesuJson<OrchestrationRunView[]>(['orchestrate', 'runs', '--json'], cp.env)).filter((r) => r.name === 'e2e-on-finding');
      return runs.length === 2 && runs.every((r) => r.status === 'completed') ? runs : undefined;
    });
    expect(triggered.map((r) => step(r, 'look').result?.x).sort()).toEqual(['Echo finding t1', 'Echo finding t2']);
    expect(triggered.every((r) => step(r, 'look').hosts[0]?.host === 'e2e-o3')).toBe(true);
  });
});
