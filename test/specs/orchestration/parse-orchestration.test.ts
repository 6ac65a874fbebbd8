import { describe, expect, it } from 'vitest';
import { formatSpecError, parseOrchestration } from '../../../src/specs/orchestration/parse-orchestration.js';
import type { OrchestrationSpec } from '../../../src/specs/orchestration/orchestration-types.js';

/** Parses and returns the formatted errors (empty when the spec is valid). */
function errorsOf(yaml: string): string[] {
  const r = parseOrchestration(yaml, 'o.yaml');
  return r.ok ? [] : r.errors.map(formatSpecError);
}

/** Parses a spec that must be valid. */
function specOf(yaml: string): OrchestrationSpec {
  const r = parseOrchestration(yaml, 'o.yaml');
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  return r.spec;
}

// SPEC §6, verbatim.
const SPEC_EXAMPLE = `name: c2-callback-triage
description: triage a suspected C2 callback
inputs:
  host: { type: string, required: true }
  pid:  { type: int }
defaults: { timeout: 5m, dispatch: auto }
steps:
  - id: scan
    agent: edr-investigator
    node: "{{trigger.host}}"
    prompt: "check for C2 indicators around process {{trigger.pid}}"
  - id: sweep
    agent: edr-triage
    nodes: [web-prod-01, web-prod-02, web-prod-03]
    prompt: "sweep for {{scan.result.ioc}}"
    continue_on_error: true
  - id: contain
    agent: forensic-collector
    node: "{{trigger.host}}"
    prompt: "snapshot volatile state from {{scan.result.pid}}"
    when: "{{scan.result.verdict == 'c2_callback'}}"
    approval: required
`;

const step = { inputs: {}, approval: false, continueOnError: false, timeoutMs: 300_000, dispatch: 'auto' } as const;

describe('parseOrchestration: the SPEC §6 example', () => {
  it('parses to the fully defaulted spec', () => {
    const r = parseOrchestration(SPEC_EXAMPLE, 'examples/c2.yaml');
    expect(r).toEqual({
      ok: true,
      spec: {
        name: 'c2-callback-triage',
        description: 'triage a suspected C2 callback',
        inputs: { host: { type: 'string', required: true, description: '' }, pid: { type: 'int', required: false, description: '' } },
        defaults: { timeoutMs: 300_000, dispatch: 'auto' },
        triggers: [],
        steps: [
          { ...step, id: 'scan', agent: 'edr-investigator', target: { kind: 'node', node: '{{trigger.host}}' }, prompt: 'check for C2 indicators around process {{trigger.pid}}' },
          { ...step, id: 'sweep', agent: 'edr-triage', target: { kind: 'nodes', nodes: ['web-prod-01', 'web-prod-02', 'web-prod-03'] }, prompt: 'sweep for {{scan.result.ioc}}', continueOnError: true },
          {
            ...step,
            id: 'contain',
            agent: 'forensic-collector',
            target: { kind: 'node', node: '{{trigger.host}}' },
            prompt: 'snapshot volatile state from {{scan.result.pid}}',
            when: "scan.result.verdict == 'c2_callback'",
            approval: true,
          },
        ],
        source: 'examples/c2.yaml',
      },
    });
  });
});

describe('parseOrchestration: defaults and accepted forms', () => {
  it('fills every default of a minimal spec', () => {
    expect(specOf('name: m\nsteps:\n  - { id: a, agent: edr, nodes_selector: "label:env=prod" }\n')).toEqual({
      name: 'm',
      description: '',
      inputs: {},
      defaults: { timeoutMs: 300_000, dispatch: 'auto' },
      triggers: [],
      steps: [{ ...step, id: 'a', agent: 'edr', target: { kind: 'selector', selector: 'label:env=prod' }, prompt: '' }],
      source: 'o.yaml',
    });
  });

  it('takes step timeout and dispatch from defaults unless the step sets its own', () => {
    const spec = specOf(`name: m
defaults: { timeout: 90s, dispatch: jobs }
steps:
  - { id: a, agent: edr, node: h1 }
  - { id: b, agent: edr, node: h1, timeout: 1h30m, dispatch: tunnel }
`);
    expect(spec.defaults).toEqual({ timeoutMs: 90_000, dispatch: 'jobs' });
    expect(spec.steps.map((s) => [s.timeoutMs, s.dispatch])).toEqual([[90_000, 'jobs'], [5_400_000, 'tunnel']]);
  });

  it.each([
    ['required', true],
    ['none', false],
    ['true', true],
    ['false', false],
  ])('approval: %s means %s', (written, approval) => {
    expect(specOf(`name: m\nsteps:\n  - { id: a, agent: edr, node: h, approval: ${written} }\n`).steps[0]?.approval).toBe(approval);
  });

  it('keeps step inputs as templates, numbers and booleans as text', () => {
    const spec = specOf(`name: m
steps:
  - id: a
    agent: edr
    node: h
    inputs: { pid: "{{trigger.pid}}", depth: 3, deep: true }
`);
    expect(spec.steps[0]?.inputs).toEqual({ pid: '{{trigger.pid}}', depth: '3', deep: 'true' });
  });

  it('accepts when with or without braces, and keeps the bare expression', () => {
    const spec = specOf(`name: m
steps:
  - { id: a, agent: edr, node: h }
  - { id: b, agent: edr, node: h, when: "a.status == 'completed'" }
  - { id: c, agent: edr, node: h, when: "{{ (a.findings | length) > 0 }}" }
`);
    expect(spec.steps.map((s) => s.when)).toEqual([undefined, "a.status == 'completed'", '(a.findings | length) > 0']);
  });

  it('parses cron and finding triggers; finding fields may be read under trigger', () => {
    const spec = specOf(`name: m
triggers:
  - cron: "*/15 * * * *"
  - finding: "finding.severity in ['HIGH','CRITICAL'] && finding.agent == 'edr'"
steps:
  - { id: a, agent: edr, node: "{{trigger.host}}", prompt: "look at {{trigger.title}}" }
`);
    expect(spec.triggers).toEqual([
      { type: 'cron', cron: '*/15 * * * *' },
      { type: 'finding', filter: "finding.severity in ['HIGH','CRITICAL'] && finding.agent == 'edr'" },
    ]);
  });

  it('coerces input defaults to their type', () => {
    const spec = specOf(`name: m
inputs:
  depth: { type: int, default: "3" }
  ports: { type: list, default: "22, 80" }
  deep: { type: bool, default: yes, description: go deep }
  note: { default: hi }
steps:
  - { id: a, agent: edr, node: h }
`);
    expect(spec.inputs).toEqual({
      depth: { type: 'int', required: false, default: 3, description: '' },
      ports: { type: 'list', required: false, default: ['22', '80'], description: '' },
      deep: { type: 'bool', required: false, default: true, description: 'go deep' },
      note: { type: 'string', required: false, default: 'hi', description: '' },
    });
  });

  it('allows references to earlier steps, byNode, filters and step ids with dashes', () => {
    expect(errorsOf(`name: m
steps:
  - { id: first-scan, agent: edr, nodes: [a, b] }
  - id: next
    agent: edr
    node: "{{ first-scan.nodes | first }}"
    prompt: '{{ first-scan.byNode["a"].result.ioc }} {{ first-scan.findings | json }}'
    when: "first-scan.status == 'completed' && trigger.force"
`)).toEqual([]);
  });
});
