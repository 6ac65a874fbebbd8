import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateExpression, parseExpression, parseTemplate, renderTemplate, truthy } from '../../src/specs/expr/index.js';
import { formatSpecError, parseOrchestration } from '../../src/specs/orchestration/parse-orchestration.js';
import type { OrchestrationSpec, StepSpec } from '../../src/specs/orchestration/orchestration-types.js';
import { resolveTrigger } from '../../src/specs/orchestration/resolve-trigger.js';
import { parseHostSelector } from '../../src/protocol/host-selector.js';
import { builtinAgentsDir, loadAgentCatalog } from '../../src/specs/agent-catalog.js';

const DIR = join(import.meta.dirname, '..', '..', 'examples');
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));

function load(name: string): OrchestrationSpec {
  const parsed = parseOrchestration(readFileSync(join(DIR, name), 'utf8'), `examples/${name}`);
  if (!parsed.ok) throw new Error(parsed.errors.map(formatSpecError).join('\n'));
  return parsed.spec;
}

const step = (spec: OrchestrationSpec, id: string): StepSpec => {
  const found = spec.steps.find((s) => s.id === id);
  if (!found) throw new Error(`no step ${id}`);
  return found;
};

function render(text: string, scope: Record<string, unknown>): string {
  const parsed = parseTemplate(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return renderTemplate(parsed.template, scope);
}

function when(s: StepSpec, scope: Record<string, unknown>): boolean {
  const parsed = parseExpression(s.when ?? 'true');
  if (!parsed.ok) throw new Error(parsed.error);
  return truthy(evaluateExpression(parsed.expr, scope, s.when ?? 'true'));
}

const trigger = (spec: OrchestrationSpec, inputs: Record<string, unknown>): Record<string, unknown> => {
  const resolved = resolveTrigger(spec, inputs);
  if (!resolved.ok) throw new Error(resolved.error);
  return resolved.trigger;
};

describe('examples/', () => {
  it('ships the two orchestrations of issue 6', () => {
    expect(files).toEqual(expect.arrayContaining(['c2-callback-triage.yaml', 'fleet-ioc-sweep.yaml']));
  });

  it.each(files)('%s validates and gives built-in agents only inputs they declare', async (name) => {
    const spec = load(name);
    expect(`${spec.name}.yaml`).toBe(name);
    const catalog = await loadAgentCatalog([builtinAgentsDir()]);
    for (const s of spec.steps) {
      const agent = catalog.agents.get(s.agent);
      expect(agent, `${s.id}: ${s.agent}`).toBeDefined();
      for (const input of Object.keys(s.inputs)) expect(Object.keys(agent?.inputs ?? {}), `${s.id}.inputs.${input}`).toContain(input);
    }
  });
});

describe('c2-callback-triage', () => {
  const spec = load('c2-callback-triage.yaml');
  const scan = step(spec, 'scan');
  const contain = step(spec, 'contain');
  const t = trigger(spec, { host: 'web-01', pid: '4242' });

  it('requires the host and runs both steps on it, the scan first', () => {
    expect(resolveTrigger(spec, {})).toMatchObject({ ok: false, error: expect.stringContaining('host') as unknown });
    expect(spec.steps.map((s) => [s.id, s.agent])).toEqual([['scan', 'edr-investigator'], ['contain', 'forensic-collector']]);
    for (const s of [scan, contain]) {
      expect(s.target.kind).toBe('node');
      if (s.target.kind === 'node') expect(render(s.target.node, { trigger: t })).toBe('web-01');
    }
    expect(render(scan.inputs['pid'] ?? '', { trigger: t })).toBe('4242');
  });

  it('contains only behind an approval gate, and only when the scan found something; its prompt carries the scan\'s result', () => {
    expect(contain.approval).toBe(true);
    const scope = (result: Record<string, unknown> | null) => ({ trigger: t, scan: { status: 'completed', result, findings: [], nodes: ['web-01'], byNode: {} } });
    const malicious = { verdict: 'malicious', confidence: 0.9, summary: 'nc reverse shell to 203.0.113.7.', indicators: ['203.0.113.7'], recommended_actions: ['isolate'] };
    expect(when(contain, scope(malicious))).toBe(true);
    expect(when(contain, scope({ ...malicious, verdict: 'suspicious' }))).toBe(true);
    expect(when(contain, scope({ ...malicious, verdict: 'benign' }))).toBe(false);
    expect(when(contain, scope(null))).toBe(false);
    const prompt = render(contain.prompt, scope(malicious));
    expect(prompt).toContain('The investigator says malicious (confidence 0.9): nc reverse shell to 203.0.113.7.');
    expect(prompt).toContain('Indicators: ["203.0.113.7"]');
  });
});

describe('fleet-ioc-sweep', () => {
  const spec = load('fleet-ioc-sweep.yaml');
  const sweep = step(spec, 'sweep');
  const snapshot = step(spec, 'snapshot');

  it('fans out over the selector (all by default) and goes on past failed hosts', () => {
    expect(sweep.continueOnError).toBe(true);
    expect(sweep.target.kind).toBe('selector');
    if (sweep.target.kind !== 'selector') return;
    for (const [inputs, selector] of [[{ ioc: '1.2.3.4' }, 'all'], [{ ioc: '1.2.3.4', selector: 'label:env=prod' }, 'label:env=prod']] as const) {
      const rendered = render(sweep.target.selector, { trigger: trigger(spec, inputs) });
      expect(rendered).toBe(selector);
      expect(parseHostSelector(rendered).ok).toBe(true);
    }
    expect(resolveTrigger(spec, {})).toMatchObject({ ok: false });
  });

  it('snapshots the first host with a finding, and is skipped when the sweep found nothing', () => {
    const t = trigger(spec, { ioc: '/tmp/.x/kworker' });
    const f = (host: string) => ({ severity: 'HIGH', title: 'IOC present', category: 'file', resource: 'path:/tmp/.x/kworker', host, agent: 'edr-investigator', fingerprint: host });
    const scope = (findings: unknown[]) => ({ trigger: t, sweep: { status: 'completed', result: {}, findings, nodes: ['web-01', 'web-02', 'db-01'], byNode: {} } });
    expect(when(snapshot, scope([]))).toBe(false);
    expect(when(snapshot, scope([f('web-02'), f('db-01')]))).toBe(true);
    expect(snapshot.target.kind).toBe('node');
    if (snapshot.target.kind === 'node') expect(render(snapshot.target.node, scope([f('web-02'), f('db-01')]))).toBe('web-02');
    expect(render(snapshot.prompt, scope([f('web-02'), f('db-01')]))).toMatch(/^\/tmp\/\.x\/kworker was found 2 time\(s\) across 3 swept hosts; snapshot web-02/);
  });
});
