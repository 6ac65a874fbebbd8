import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { host, testDeps } from './helpers.js';
import { FakeCp, orchestrationView, orchRunView, stepHost, stepView, TRIAGE_YAML } from './orchestrate-fake-cp.js';

const dir = mkdtempSync(join(tmpdir(), 'okesu-orch-files-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const deps = testDeps();
  const code = await runCli(args, deps);
  return { code, out: deps.stdout.text(), err: deps.stderr.text() };
}

describe('okesu orchestrate validate (local, no CP)', () => {
  it('prints ok with the step count for good files and exits 0', async () => {
    const good = file('good.yaml', TRIAGE_YAML);
    const { code, out, err } = await cli(['orchestrate', 'validate', good]);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toBe(`${good}: ok (c2-callback-triage, 2 steps)\n`);
  });

  it('prints file:line:column: field: message for each error and exits 1 when any file is bad', async () => {
    const good = file('good2.yaml', TRIAGE_YAML);
    const forward = file('forward.yaml', TRIAGE_YAML.replace('check process {{trigger.pid}}', 'check {{contain.result.x}}'));
    const { code, out } = await cli(['orchestrate', 'validate', good, forward, join(dir, 'missing.yaml')]);
    expect(code).toBe(1);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe(`${good}: ok (c2-callback-triage, 2 steps)`);
    expect(lines[1]).toMatch(new RegExp(`^${forward.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:10:13: steps\\.0\\.prompt: forward reference to step "contain"`));
    expect(lines[2]).toBe(`${join(dir, 'missing.yaml')}:1:1: cannot read: ENOENT`);
  });

  it('--json gives one result per file', async () => {
    const bad = file('bad.yaml', 'name: x\nsteps: []\n');
    const { code, out } = await cli(['orchestrate', 'validate', '--json', bad]);
    expect(code).toBe(1);
    const [result] = JSON.parse(out) as { file: string; ok: boolean; errors: { field: string }[] }[];
    expect(result).toMatchObject({ file: bad, ok: false });
    expect(result?.errors.map((e) => e.field)).toContain('steps');
  });
});

describe('okesu orchestrate against a fake CP', () => {
  const cp = new FakeCp();
  beforeAll(async () => {
    await cp.start();
  });
  afterAll(() => cp.stop());
  beforeEach(() => {
    cp.seen = [];
    cp.routes.clear();
  });
  const run = (args: string[]) => cli([...args, '--config', cp.configFile]);

  it('apply checks the file first, then PUTs the YAML under its name and prints the stored view', async () => {
    cp.routes.set('PUT /v1/orchestrations/c2-callback-triage', () => ({ status: 200, body: orchestrationView() }));
    const good = file('apply.yaml', TRIAGE_YAML);
    const { code, out } = await run(['orchestrate', 'apply', good]);
    expect(code).toBe(0);
    expect(cp.seen[0]?.body).toEqual({ spec: TRIAGE_YAML });
    expect(out.split('\n')[0]).toMatch(/^NAME\s+STEPS\s+TRIGGERS\s+UPDATED\s+BY\s+DESCRIPTION$/);
    expect(out).toMatch(/c2-callback-triage\s+scan,contain\s+manual\s+2026-11-24T17:23:19Z\s+admin\s+triage a C2 callback/);

    const json = await run(['orchestrate', 'apply', good, '--json']);
    expect(JSON.parse(json.out)).toEqual(orchestrationView());
  });

  it('apply of a bad file prints its errors and sends nothing', async () => {
    const bad = file('bad-apply.yaml', TRIAGE_YAML.replace('node: "{{trigger.host}}"\n    prompt: "check', 'nodes: [a]\n    node: b\n    prompt: "check'));
    const { code, err } = await run(['orchestrate', 'apply', bad]);
    expect(code).toBe(1);
    expect(err).toMatch(/bad-apply\.yaml:\d+:\d+: steps\.0\.nodes: node and nodes cannot be used together/);
    expect(err).toContain('OKS_ERR_BAD_REQUEST');
    expect(cp.seen).toEqual([]);
  });

  it('apply shows the CP\'s own spec errors, one per line', async () => {
    cp.routes.set('PUT /v1/orchestrations/c2-callback-triage', () => ({
      status: 400,
      // The CP's shape: the error envelope, with the located errors beside it.
      body: {
        code: 'OKS_ERR_SPEC_INVALID', message: 'orchestration spec is invalid: 1 error',
        errors: [{ source: '<api>', line: 7, column: 12, field: 'steps.0.agent', message: 'no agent named edr-investigator' }],
        error: { code: 'OKS_ERR_SPEC_INVALID', message: 'orchestration spec is invalid: 1 error' },
      },
    }));
    const { code, err } = await run(['orchestrate', 'apply', file('cp-refuses.yaml', TRIAGE_YAML)]);
    expect(code).toBe(1);
    expect(err).toBe('okesu: OKS_ERR_SPEC_INVALID: orchestration spec is invalid: 1 error\n  <api>:7:12: steps.0.agent: no agent named edr-investigator\n');
  });

  it('list prints a table or the JSON array; an empty list says how to add one', async () => {
    const views = [orchestrationView(), orchestrationView({ name: 'nightly', triggers: [{ type: 'cron', cron: '0 3 * * *' }], description: '' })];
    cp.routes.set('GET /v1/orchestrations', () => ({ status: 200, body: views }));
    const table = await run(['orchestrate', 'list']);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/nightly\s+scan,contain\s+cron 0 3 \* \* \*/);
    expect(JSON.parse((await run(['orchestrate', 'list', '--json'])).out)).toEqual(views);

    cp.routes.set('GET /v1/orchestrations', () => ({ status: 200, body: { orchestrations: [] } }));
    const empty = await run(['orchestrate', 'list']);
    expect(empty).toMatchObject({ code: 0, out: '' });
    expect(empty.err).toContain('okesu orchestrate apply FILE');
  });

  it('a view that does not match the schema is refused, not printed', async () => {
    cp.routes.set('GET /v1/orchestrations', () => ({ status: 200, body: [{ name: 'x' }] }));
    const { code, err, out } = await run(['orchestrate', 'list']);
    expect({ code, out }).toEqual({ code: 1, out: '' });
    expect(err).toMatch(/^okesu: OKS_ERR_BAD_FRAME: malformed frame: GET \/v1\/orchestrations: 0\.description: .+/);
  });

  it('runs passes --limit and shows the step each run is at', async () => {
    const waiting = orchRunView({
      status: 'approval_required',
      steps: [stepView({ status: 'completed' }), stepView({ id: 'contain', agent: 'forensic-collector', status: 'waiting_approval', prompt: 'snapshot' })],
    });
    cp.routes.set('GET /v1/orchestration-runs', () => ({ status: 200, body: { runs: [waiting] } }));
    const { code, out } = await run(['orchestrate', 'runs', '--limit', '5']);
    expect(code).toBe(0);
    expect(cp.seen[0]?.url.searchParams.get('limit')).toBe('5');
    expect(out).toMatch(/o_01JD0000000000000000000000\s+2026-11-24T17:23:19Z\s+c2-callback-triage\s+approval_required\s+contain waiting_approval\s+admin\s+-/);
    expect(JSON.parse((await run(['orchestrate', 'runs', '--json'])).out)).toEqual([waiting]);
  });

  it('show prints steps, rendered prompts, per-host states and results', async () => {
    const view = orchRunView({
      status: 'approval_required',
      trigger: { host: 'web-01', pid: 4242 },
      steps: [
        stepView({
          status: 'completed', prompt: 'check process 4242', started_at: 1000, ended_at: 13_000,
          hosts: [stepHost('web-01', 'completed', { findings: 2, result: { verdict: 'malicious' } })], result: { verdict: 'malicious' },
        }),
        stepView({ id: 'contain', agent: 'forensic-collector', status: 'waiting_approval', prompt: 'snapshot web-01 now' }),
      ],
    });
    cp.routes.set('GET /v1/orchestration-runs/o_01JD0000000000000000000000', () => ({ status: 200, body: view }));
    const { code, out } = await run(['orchestrate', 'show', view.id]);
    expect(code).toBe(0);
    expect(out).toContain('o_01JD0000000000000000000000  c2-callback-triage  approval_required');
    expect(out).toContain('trigger: {"host":"web-01","pid":4242}');
    expect(out).toContain('step scan  edr-investigator  completed in 12s');
    expect(out).toContain('  prompt: check process 4242');
    expect(out).toMatch(/ {2}web-01\s+completed\s+r_web-01\s+2 findings/);
    expect(out).toContain('  result: {"verdict":"malicious"}');
    expect(out).toContain('step contain  forensic-collector  waiting_approval');
    expect(out).toContain('  prompt: snapshot web-01 now');
    expect(out).toContain(`approve: okesu orchestrate approve ${view.id} contain`);
    expect(JSON.parse((await run(['orchestrate', 'show', view.id, '--json'])).out)).toEqual(view);
  });

  it('approve, reject and cancel post to their endpoints with the reason', async () => {
    const id = 'o_01JD0000000000000000000000';
    cp.routes.set(`POST /v1/orchestration-runs/${id}/steps/contain/approve`, () => ({ status: 200, body: orchRunView() }));
    cp.routes.set(`POST /v1/orchestration-runs/${id}/steps/contain/reject`, () => ({ status: 200, body: { run: orchRunView({ status: 'failed' }) } }));
    cp.routes.set(`POST /v1/orchestration-runs/${id}/cancel`, () => ({ status: 200, body: orchRunView({ status: 'cancelled' }) }));

    expect(await run(['orchestrate', 'approve', id, 'contain'])).toMatchObject({ code: 0, out: `approved step contain of run ${id}; the run is running\n` });
    expect(await run(['orchestrate', 'reject', id, 'contain', '--reason', 'false positive'])).toMatchObject({ code: 0, out: `rejected step contain of run ${id}; the run is failed\n` });
    expect(await run(['orchestrate', 'cancel', id, '--reason', 'done by hand'])).toMatchObject({ code: 0, out: `cancel sent for run ${id}; the run is cancelled\n` });
    expect(cp.seen.map((s) => s.body)).toEqual([{}, { reason: 'false positive' }, { reason: 'done by hand' }]);
  });

  it('a refused approval (wrong state) is an error with the CP\'s code', async () => {
    cp.routes.set('POST /v1/orchestration-runs/o_x/steps/scan/approve', () => ({ status: 409, body: { error: { code: 'OKS_ERR_RUN_FINISHED', message: 'the run has already finished' } } }));
    const { code, err } = await run(['orchestrate', 'approve', 'o_x', 'scan']);
    expect(code).toBe(1);
    expect(err).toBe('okesu: OKS_ERR_RUN_FINISHED: the run has already finished\n');
  });

  it('run NAME without --wait starts a stored orchestration with the inputs and prints the run id', async () => {
    cp.routes.set('POST /v1/orchestration-runs', () => ({ status: 201, body: orchRunView() }));
    const { code, out, err } = await run(['orchestrate', 'run', 'c2-callback-triage', '--input', 'host=web-01', '--input', 'pid=4242']);
    expect(code).toBe(0);
    expect(out).toBe('o_01JD0000000000000000000000\n');
    expect(err).toContain('started');
    expect(cp.seen[0]?.body).toEqual({ name: 'c2-callback-triage', inputs: { host: 'web-01', pid: 4242 } });
  });

  it('run FILE sends the checked spec inline; missing required inputs are caught before sending', async () => {
    cp.routes.set('POST /v1/orchestration-runs', () => ({ status: 201, body: orchRunView() }));
    const path = file('inline.yml', TRIAGE_YAML);
    const ok = await run(['orchestrate', 'run', path, '--input', 'host=web-02', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toEqual(orchRunView());
    expect(cp.seen[0]?.body).toEqual({ spec: TRIAGE_YAML, inputs: { host: 'web-02' } });

    cp.seen = [];
    const missing = await run(['orchestrate', 'run', path]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('missing required input host');
    const unreadable = await run(['orchestrate', 'run', join(dir, 'nope', 'x.yaml')]);
    expect(unreadable.code).toBe(1);
    expect(unreadable.err).toContain('is not a readable orchestration file');
    expect(cp.seen).toEqual([]);
  });
});

describe('okesu hosts label', () => {
  const cp = new FakeCp();
  beforeAll(async () => {
    await cp.start();
  });
  afterAll(() => cp.stop());
  beforeEach(() => {
    cp.seen = [];
  });

  it('PUTs the labels to set and remove and prints the host\'s labels', async () => {
    cp.routes.set('PUT /v1/hosts/web-01/labels', () => ({ status: 200, body: host({ labels: { env: 'prod', role: 'web' } }) }));
    const { code, out } = await cli(['hosts', 'label', 'web-01', 'env=prod', 'role=web', '--remove', 'tier', '--remove', 'old', '--config', cp.configFile]);
    expect(code).toBe(0);
    expect(out).toBe('web-01: env=prod,role=web\n');
    expect(cp.seen[0]?.body).toEqual({ set: { env: 'prod', role: 'web' }, remove: ['tier', 'old'] });

    cp.routes.set('PUT /v1/hosts/web-01/labels', () => ({ status: 200, body: { host: host() } }));
    const json = await cli(['hosts', 'label', 'web-01', '--remove', 'env', '--json', '--config', cp.configFile]);
    expect(JSON.parse(json.out)).toEqual(host());
  });

  it.each([
    [['web-01'], /give labels to set/],
    [['web-01', 'env'], /expected key=value/],
    [['web-01', 'bad key=1'], /label key "bad key"/],
    [['web-01', 'env=prod', '--remove', 'env'], /env: set and removed at once/],
    [['web-01', '--remove', 'a b'], /expected a label key/],
  ])('%j is a usage error (exit 2) and sends nothing', async (args, message) => {
    const { code, err } = await cli(['hosts', 'label', ...args, '--config', cp.configFile]);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(cp.seen).toEqual([]);
  });
});
