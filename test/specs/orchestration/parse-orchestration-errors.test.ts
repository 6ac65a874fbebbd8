import { describe, expect, it } from 'vitest';
import { formatSpecError, parseOrchestration } from '../../../src/specs/orchestration/parse-orchestration.js';

/** Parses and returns the formatted errors (empty when the spec is valid). */
function errorsOf(yaml: string): string[] {
  const r = parseOrchestration(yaml, 'o.yaml');
  return r.ok ? [] : r.errors.map(formatSpecError);
}

/** A spec of two steps, `a` then `b`; `aExtra`/`bExtra` are lines added to each step (indented by the caller). */
function twoSteps(aExtra: string, bExtra = ''): string {
  return `name: t\nsteps:\n  - id: a\n    agent: edr\n${aExtra}  - id: b\n    agent: edr\n${bExtra}`;
}

const FWD = '(steps may only use earlier steps and trigger)';

describe('parseOrchestration: errors name file:line:col: field', () => {
  it.each([
    // References (line 5 is a's first extra line, line 8 b's).
    ['forward reference', twoSteps('    node: "{{b.result.host}}"\n', '    node: h\n'), [`o.yaml:5:11: steps.0.node: forward reference to step "b" ${FWD}`]],
    ['a step referencing itself', twoSteps('    node: h\n    prompt: "again {{a.result.x}}"\n', '    node: h\n'), [`o.yaml:6:13: steps.0.prompt: forward reference to step "a" ${FWD}`]],
    ['unknown step', twoSteps('    node: h\n', '    node: h\n    prompt: "{{scna.result.ioc}}"\n'), [`o.yaml:9:13: steps.1.prompt: unknown step "scna" ${FWD}`]],
    ['unknown step in a nodes item', twoSteps('    node: h\n', '    nodes: [h1, "{{x.nodes}}"]\n'), [`o.yaml:8:17: steps.1.nodes.1: unknown step "x" ${FWD}`]],
    ['unknown step in an input', twoSteps('    node: h\n', '    node: h\n    inputs: { ioc: "{{nope.result}}" }\n'), [`o.yaml:9:20: steps.1.inputs.ioc: unknown step "nope" ${FWD}`]],
    ['forward reference in when', twoSteps("    node: h\n    when: b.status == 'completed'\n", '    node: h\n'), [`o.yaml:6:11: steps.0.when: forward reference to step "b" ${FWD}`]],
    ['one error per name per field', twoSteps('    node: h\n    prompt: "{{zz.a}} {{zz.b}} {{yy}}"\n', '    node: h\n'), [
      `o.yaml:6:13: steps.0.prompt: unknown step "zz" ${FWD}`,
      `o.yaml:6:13: steps.0.prompt: unknown step "yy" ${FWD}`,
    ]],
    // Targets.
    ['node with nodes', twoSteps('    node: h\n    nodes: [h1]\n', '    node: h\n'), ['o.yaml:6:12: steps.0.nodes: node and nodes cannot be used together; give one of node, nodes or nodes_selector']],
    ['node with nodes_selector', twoSteps('    node: h\n    nodes_selector: all\n', '    node: h\n'), ['o.yaml:6:21: steps.0.nodes_selector: node and nodes_selector cannot be used together; give one of node, nodes or nodes_selector']],
    ['no target', twoSteps('', '    node: h\n'), ['o.yaml:3:5: steps.0: expected one of node, nodes or nodes_selector (which hosts the step runs on)']],
    ['empty nodes', twoSteps('    nodes: []\n', '    node: h\n'), ['o.yaml:5:12: steps.0.nodes: must name at least one host']],
    // Durations and dispatch.
    ['bad step timeout', twoSteps('    node: h\n    timeout: 5x\n', '    node: h\n'), ['o.yaml:6:14: steps.0.timeout: expected a duration like 30s, 5m, 1h or 7d, got "5x"']],
    ['timeout as a number', twoSteps('    node: h\n    timeout: 30\n', '    node: h\n'), ['o.yaml:6:14: steps.0.timeout: expected a duration like 30s, 5m, 1h or 7d, got 30']],
    ['timeout too long', twoSteps('    node: h\n    timeout: 8d\n', '    node: h\n'), ['o.yaml:6:14: steps.0.timeout: must be at most 7d']],
    ['bad default timeout', 'name: t\ndefaults: { timeout: soon }\nsteps:\n  - { id: a, agent: edr, node: h }\n', ['o.yaml:2:22: defaults.timeout: expected a duration like 30s, 5m, 1h or 7d, got "soon"']],
    ['unknown dispatch', twoSteps('    node: h\n    dispatch: carrier-pigeon\n', '    node: h\n'), ['o.yaml:6:15: steps.0.dispatch: expected one of auto, tunnel, jobs']],
    ['unknown default dispatch', 'name: t\ndefaults: { dispatch: s3 }\nsteps:\n  - { id: a, agent: edr, node: h }\n', ['o.yaml:2:23: defaults.dispatch: expected one of auto, tunnel, jobs']],
    // Triggers.
    ['bad cron', 'name: t\ntriggers:\n  - cron: "61 * * * *"\nsteps:\n  - { id: a, agent: edr, node: h }\n', ['o.yaml:3:11: triggers.0.cron: minute: 61 is out of range 0-59']],
    ['cron that never fires', 'name: t\ntriggers:\n  - cron: "0 0 31 2 *"\nsteps:\n  - { id: a, agent: edr, node: h }\n', ['o.yaml:3:11: triggers.0.cron: never matches a date (e.g. 31 February)']],
    ['bad finding filter', 'name: t\ntriggers:\n  - finding: "finding.severity =="\nsteps:\n  - { id: a, agent: edr, node: h }\n', [
      'o.yaml:3:14: triggers.0.finding: invalid expression: expected a value at 19 in "finding.severity =="',
    ]],
    ['finding filter reading something else', 'name: t\ntriggers:\n  - finding: "{{ host.name == \'x\' && finding.agent == \'edr\' }}"\nsteps:\n  - { id: a, agent: edr, node: h }\n', [
      'o.yaml:3:14: triggers.0.finding: a finding filter may only use finding.FIELD, not "host"',
    ]],
    ['trigger of neither kind', 'name: t\ntriggers:\n  - { every: 5m }\nsteps:\n  - { id: a, agent: edr, node: h }\n', [
      'o.yaml:3:5: triggers.0: expected { cron: "…" } or { finding: "<expression>" }',
      'o.yaml:3:7: triggers.0.every: unknown field (expected cron, finding)',
    ]],
    ['trigger of both kinds', 'name: t\ntriggers:\n  - { cron: "@daily", finding: "true" }\nsteps:\n  - { id: a, agent: edr, node: h }\n', [
      'o.yaml:3:32: triggers.0.finding: a trigger is either cron or finding; write each as its own list item',
    ]],
    // Expressions and templates.
    ['bad when', twoSteps('    node: h\n', '    node: h\n    when: "{{ a.status == }}"\n'), ['o.yaml:9:11: steps.1.when: invalid expression: expected a value at 11 in "a.status =="']],
    ['unclosed placeholder', twoSteps('    node: h\n', '    nodes_selector: "label:env={{ trigger.env"\n'), ['o.yaml:8:21: steps.1.nodes_selector: invalid template: unclosed {{ at 10 in "label:env={{ trigger.env"']],
    // Fields.
    ['unknown step field, with a hint', twoSteps('    node: h\n    aproval: required\n', '    node: h\n'), ['o.yaml:6:5: steps.0.aproval: unknown field; did you mean approval?']],
    ['unknown top-level field, with a hint', 'name: t\nstep:\n  - { id: a, agent: edr, node: h }\n', ['o.yaml:1:1: steps: is required', 'o.yaml:2:1: step: unknown field; did you mean steps?']],
    ['bad approval', twoSteps('    node: h\n    approval: maybe\n', '    node: h\n'), ['o.yaml:6:15: steps.0.approval: expected required or none (or true/false)']],
    ['duplicate step id', 'name: t\nsteps:\n  - { id: a, agent: edr, node: h }\n  - { id: a, agent: edr, node: h }\n', ['o.yaml:4:11: steps.1.id: duplicate step id "a" (also steps.0.id)']],
    ['reserved step id', 'name: t\nsteps:\n  - { id: trigger, agent: edr, node: h }\n', ['o.yaml:3:11: steps.0.id: "trigger" is reserved for the run\'s trigger; choose another id']],
    ['bad step id', 'name: t\nsteps:\n  - { id: 1st, agent: edr, node: h }\n', ['o.yaml:3:11: steps.0.id: expected a step id (a-z first, then a-z, 0-9, _ -, at most 64)']],
    ['bad agent name', 'name: t\nsteps:\n  - { id: a, agent: EDR, node: h }\n', ['o.yaml:3:21: steps.0.agent: expected an agent name (a-z, 0-9, . _ -, at most 64)']],
    ['bad name, no steps', 'name: Triage\nsteps: []\n', ['o.yaml:1:7: name: expected a name (a-z, 0-9, . _ -, at most 64)', 'o.yaml:2:8: steps: must have at least one step']],
    ['input type', 'name: t\ninputs:\n  pid: { type: integer }\nsteps:\n  - { id: a, agent: edr, node: h }\n', ['o.yaml:3:16: inputs.pid.type: expected one of string, int, number, bool, list']],
    ['input default of the wrong type', 'name: t\ninputs:\n  pid: { type: int, default: abc }\nsteps:\n  - { id: a, agent: edr, node: h }\n', ['o.yaml:3:30: inputs.pid.default: does not fit type int: expected an integer, got "abc"']],
    ['required input with a default', 'name: t\ninputs:\n  pid: { type: int, required: true, default: 1 }\nsteps:\n  - { id: a, agent: edr, node: h }\n', [
      'o.yaml:3:31: inputs.pid.required: an input with a default is never missing; drop required or the default',
    ]],
    ['unknown input field', 'name: t\ninputs:\n  pid: { typ: int }\nsteps:\n  - { id: a, agent: edr, node: h }\n', ['o.yaml:3:10: inputs.pid.typ: unknown field; did you mean type?']],
    ['not a mapping', '- a\n- b\n', ['o.yaml:1:1: an orchestration must be a mapping of fields (name:, steps:, …)']],
    ['bad YAML', 'name: t\nsteps: [\n', ['o.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']],
  ] as const)('%s', (_name, yaml, expected) => {
    expect(errorsOf(yaml)).toEqual(expected);
  });

  it('reports every shape error at once, in file order', () => {
    const yaml = twoSteps('    node: h\n    nodes: [h1]\n    timeout: 5x\n    dispatch: fast\n', '    node: h\n');
    expect(errorsOf(yaml)).toEqual([
      'o.yaml:6:12: steps.0.nodes: node and nodes cannot be used together; give one of node, nodes or nodes_selector',
      'o.yaml:7:14: steps.0.timeout: expected a duration like 30s, 5m, 1h or 7d, got "5x"',
      'o.yaml:8:15: steps.0.dispatch: expected one of auto, tunnel, jobs',
    ]);
  });

  it('reports every reference error at once, in file order', () => {
    const yaml = `name: t
triggers:
  - cron: "@never"
steps:
  - id: a
    agent: edr
    node: "{{c.nodes | first}}"
    when: "{{ b.status == 'completed' }}"
  - id: b
    agent: edr
    node: h
    prompt: "{{ a.result.x }} {{ zz }}"
`;
    expect(errorsOf(yaml)).toEqual([
      'o.yaml:3:11: triggers.0.cron: unknown macro "@never" (expected one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)',
      `o.yaml:7:11: steps.0.node: unknown step "c" ${FWD}`,
      `o.yaml:8:11: steps.0.when: forward reference to step "b" ${FWD}`,
      `o.yaml:12:13: steps.1.prompt: unknown step "zz" ${FWD}`,
    ]);
  });

  it('refuses a file over the size limit without parsing it', () => {
    expect(errorsOf(`name: t\ndescription: "${'x'.repeat(300 * 1024)}"\n`)).toEqual([`o.yaml:1:1: orchestration file is ${300 * 1024 + 24} bytes; the limit is 262144`]);
  });

  it('refuses more than 100 steps', () => {
    const steps = Array.from({ length: 101 }, (_, i) => `  - { id: s${i}, agent: edr, node: h }`).join('\n');
    expect(errorsOf(`name: t\nsteps:\n${steps}\n`)).toEqual(['o.yaml:3:3: steps: must have at most 100 steps']);
  });
});
