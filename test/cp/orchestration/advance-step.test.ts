import { describe, expect, it } from 'vitest';
import { evaluateWhen, renderStep, resolveTargets, stepOutcome } from '../../../src/cp/orchestration/advance-step.js';
import { stepScope } from '../../../src/cp/orchestration/step-scope.js';
import type { StepHostRecord, StepRecord } from '../../../src/cp/orchestration/store.js';
import type { StepSpec } from '../../../src/specs/orchestration/orchestration-types.js';

const host = (pos: number, name: string, status: StepHostRecord['status'], result: Record<string, unknown> | null = null, error: string | null = null): StepHostRecord => ({
  run_id: 'o_1', idx: 0, pos, host: name, status, agent_run_id: `r_${pos}`, result, findings: 0, error,
});
const step = (over: Partial<StepSpec> = {}): StepSpec => ({
  id: 'b', agent: 'edr', target: { kind: 'node', node: 'web-01' }, prompt: '', inputs: {}, approval: false, continueOnError: false, timeoutMs: 1000, dispatch: 'auto', ...over,
});

describe('stepOutcome', () => {
  it.each([
    ['waits while a host runs', [host(0, 'a', 'completed'), host(1, 'b', 'running')], undefined],
    ['completes when all completed, merging results in target order', [host(0, 'a', 'completed', { x: 1, y: 1 }), host(1, 'b', 'completed', { y: 2 })], { status: 'completed', result: { x: 1, y: 2 }, error: null }],
    ['fails naming the one failed host', [host(0, 'a', 'failed', null, 'boom')], { status: 'failed', result: {}, error: 'failed on 1 of 1 host: a: boom' }],
    ['fails naming several', [host(0, 'a', 'failed', null, 'x'), host(1, 'b', 'completed', { k: 1 }), host(2, 'c', 'failed', null, 'y')], { status: 'failed', result: { k: 1 }, error: 'failed on 2 of 3 hosts: a (x), c (y)' }],
  ])('%s', (_name, hosts, expected) => {
    expect(stepOutcome(hosts)).toEqual(expected);
  });
});

describe('resolveTargets', () => {
  const live = [{ hostname: 'web-01', labels: { env: 'prod' } }, { hostname: 'web-02', labels: { env: 'dev' } }];
  it.each([
    ['keeps target order, drops repeats, splits unknown', { kind: 'hosts' as const, hosts: ['web-02', 'ghost', 'web-02', 'web-01'] }, { ok: true, value: { known: ['web-02', 'web-01'], unknown: ['ghost'] } }],
    ['selects by label', { kind: 'selector' as const, selector: 'label:env=prod' }, { ok: true, value: { known: ['web-01'], unknown: [] } }],
    ['fails a selector matching nobody', { kind: 'selector' as const, selector: 'label:env=qa' }, { ok: false, error: 'no host matches label:env=qa' }],
    ['fails an empty rendered node', { kind: 'hosts' as const, hosts: [''] }, { ok: false, error: 'the step targets no host (node rendered empty)' }],
  ])('%s', (_name, targets, expected) => {
    expect(resolveTargets(targets, live)).toEqual(expected);
  });
  it('fails a selector that does not parse, saying why', () => {
    const r = resolveTargets({ kind: 'selector', selector: 'env=prod' }, live);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^nodes_selector "env=prod": expected "all" or "label:k=v/);
  });
});

describe('scope, when and rendering', () => {
  const earlier: StepRecord[] = [{
    run_id: 'o_1', idx: 0, step_id: 'scan', agent: 'edr', status: 'completed', rendered: null, approved: false, result: { ioc: '1.2.3.4' },
    error: null, started_at: 1, ended_at: 2, decided_by: null,
  }];
  const finding = { severity: 'HIGH', title: 't', category: 'process', resource: 'r', host: 'web-01', agent: 'edr', fingerprint: 'f' };
  const scope = stepScope({ host: 'web-01' }, earlier, [{ ...host(0, 'web-01', 'completed', { ioc: '1.2.3.4' }) }], () => [finding]);

  it('binds each earlier step with status, result, findings, nodes and byNode', () => {
    expect(scope['scan']).toEqual({
      status: 'completed', result: { ioc: '1.2.3.4' }, findings: [finding], nodes: ['web-01'],
      byNode: { 'web-01': { status: 'completed', result: { ioc: '1.2.3.4' }, findings: [finding] } },
    });
  });
  it.each([
    ["scan.result.ioc == '1.2.3.4'", true],
    ["scan.byNode['web-01'].status == 'failed'", false],
    ['(scan.findings | length) > 0', true],
  ])('when %s is %s', (when, expected) => {
    expect(evaluateWhen(step({ when }), scope)).toEqual({ ok: true, value: expected });
  });
  it('renders prompt, inputs and targets; a failing placeholder names its field', () => {
    const ok = renderStep(step({ prompt: 'sweep {{scan.result.ioc}}', inputs: { ip: '{{scan.result.ioc}}' }, target: { kind: 'nodes', nodes: ['{{trigger.host}}', 'web-02'] } }), scope);
    expect(ok).toEqual({ ok: true, value: { prompt: 'sweep 1.2.3.4', inputs: { ip: '1.2.3.4' }, targets: { kind: 'hosts', hosts: ['web-01', 'web-02'] } } });
    const bad = renderStep(step({ inputs: { n: '{{scan.result.ioc > 3}}' } }), scope);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^inputs\.n: in "scan\.result\.ioc > 3": /);
  });
});
