import { describe, expect, it } from 'vitest';
import { formatSpecError, parseAgent } from '../../src/specs/parse-agent.js';
import { parseOrchestration } from '../../src/specs/orchestration/parse-orchestration.js';
import { yamlNestsDeeperThan } from '../../src/specs/yaml-depth.js';

/** YAML documents nesting `n` collections under `a:`, in each way the yaml library recurses on. */
const FORMS: [string, (n: number) => string][] = [
  ['compact block sequences', (n) => `a:\n  ${'- '.repeat(n)}x\n`],
  ['flow sequences', (n) => `a: ${'['.repeat(n)}x${']'.repeat(n)}\n`],
  ['flow mappings', (n) => `a: ${'{b: '.repeat(n)}x${'}'.repeat(n)}\n`],
  ['indented block mappings', (n) => `a:\n${Array.from({ length: n }, (_, i) => `${' '.repeat(i + 1)}k${i}:\n`).join('')}${' '.repeat(n + 1)}x\n`],
];

describe('yamlNestsDeeperThan', () => {
  it.each(FORMS)('%s: 64 levels pass, 65 are found', (_name, make) => {
    // `a:` is the document's mapping: one level of its own
    expect(yamlNestsDeeperThan(make(63))).toBeUndefined();
    expect(yamlNestsDeeperThan(make(64))).toBeTypeOf('number');
  });

  it('does not count brackets inside scalars', () => {
    expect(yamlNestsDeeperThan(`a: "${'['.repeat(500)}"\nb: |\n  ${'{'.repeat(500)}\nc: x${'['.repeat(500)}\n`)).toBeUndefined();
  });
});

describe('specs nested too deeply', () => {
  it('are refused with the line and column, as often as they come, and the process lives on', () => {
    // Without the bound the second of these aborted the process (V8 out of memory in its regexp compiler).
    for (let i = 0; i < 3; i++) {
      const agent = parseAgent(`---\nname: deep\ncommand: ['true']\ninputs:\n  ${'- '.repeat(20_000)}x\n---\n`, 'deep.md');
      expect(agent.ok).toBe(false);
      if (!agent.ok) expect(agent.errors.map(formatSpecError)).toEqual([expect.stringMatching(/^deep\.md:5:\d+: invalid YAML: nested more than 64 levels deep/)]);
      const orch = parseOrchestration(`name: o\nsteps: ${'['.repeat(100_000)}\n`, 'o.yaml');
      expect(orch.ok).toBe(false);
      if (!orch.ok) expect(orch.errors[0]).toMatchObject({ line: 2, message: 'invalid YAML: nested more than 64 levels deep' });
    }
    expect(parseOrchestration('name: o\nsteps:\n  - { id: a, agent: edr, node: web-01 }\n', 'o.yaml').ok).toBe(true);
  });
});
