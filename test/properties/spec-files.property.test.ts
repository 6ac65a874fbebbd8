import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseAgent } from '../../src/specs/parse-agent.js';
import { parseOrchestration } from '../../src/specs/orchestration/parse-orchestration.js';
import type { SpecError } from '../../src/specs/spec-error.js';
import { parsePolicy } from '../../daimon/policy/load-policy.js';
import { budget, withinBound } from './budget.js';

const AGENT = readFileSync(new URL('../../agents/sre-health.md', import.meta.url), 'utf8');
const ORCHESTRATION = readFileSync(new URL('../../examples/c2-callback-triage.yaml', import.meta.url), 'utf8');
const POLICY = [
  'deny:',
  '  agents: [forensic-*]',
  '  tools: [{ pattern: bash, reason: no shells here }]',
  '  commands: ["curl *"]',
  '  paths: ["/etc/shadow", "/root/**"]',
  'cp_definitions: false',
  '',
].join('\n');

/** Random damage to a valid file: characters replaced, inserted or deleted, lines swapped or cut, YAML noise spliced in. */
function mutated(text: string): fc.Arbitrary<string> {
  const noise = fc.constantFrom(':', '- ', '{', '}', '[', ']', '"', "'", '\t', '\n', '  ', '&a', '*a', '!!js/function', '<<: *a', '---', '...', '#', '%YAML 1.1', '\0', '\u202e', '9999999999999999999999', '~', 'null', '? ');
  const edit = fc.oneof(
    fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.oneof(noise, fc.string({ maxLength: 6 }))).map(([at, cut, insert]) => (s: string) => {
      const i = at % (s.length + 1);
      return `${s.slice(0, i)}${insert}${s.slice(i + cut)}`;
    }),
    fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => (s: string) => {
      const lines = s.split('\n');
      const i = a % lines.length;
      const j = b % lines.length;
      [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
      return lines.join('\n');
    }),
    fc.nat().map((at) => (s: string) => s.slice(0, at % (s.length + 1))),
  );
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => edits.reduce((s, f) => f(s), text));
}

/** Every error points into the file and says something. */
function expectLocated(errors: SpecError[], source: string, text: string): void {
  expect(errors.length).toBeGreaterThan(0);
  const lines = text.split('\n').length;
  for (const e of errors) {
    expect(e.source).toBe(source);
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.line).toBeLessThanOrEqual(lines + 1);
    expect(e.column).toBeGreaterThanOrEqual(1);
    expect(e.message.trim().length).toBeGreaterThan(0);
  }
}

const anyText = fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }));

describe('agent files (property)', () => {
  it('parseAgent never throws on damaged or random text, and every error is located', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(AGENT), anyText.map((t) => `---\n${t}\n---\nbody`), anyText), (text) => {
        const result = withinBound('parseAgent', () => parseAgent(text, 'fuzz.md'));
        if (!result.ok) expectLocated(result.errors, 'fuzz.md', text);
      }),
      budget(400),
    );
  });

  it('a valid generated agent round-trips: what is written is what is parsed', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/);
    const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ._-]{0,40}$/).map((s) => s.trim()).filter((s) => s !== '');
    const agent = fc.record({
      name,
      description: word,
      version: fc.stringMatching(/^[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}$/),
      argv: fc.array(fc.stringMatching(/^[a-z/][a-z0-9/._-]{0,20}$/), { minLength: 1, maxLength: 4 }),
      collectors: fc.uniqueArray(fc.record({ name, command: word }), { maxLength: 3, selector: (c) => c.name }),
      body: fc.string({ maxLength: 200 }).map((b) => b.replaceAll('---', '- - -')),
    });
    fc.assert(
      fc.property(agent, (a) => {
        const front = { name: a.name, description: a.description, version: a.version, provider: 'custom', command: a.argv, collectors: a.collectors.map((c) => ({ name: c.name, command: c.command })) };
        const text = `---\n${stringify(front)}---\n${a.body}`;
        const result = parseAgent(text, 'gen.md');
        expect(result.ok, result.ok ? '' : JSON.stringify(result.errors)).toBe(true);
        if (!result.ok) return;
        expect(result.agent.name).toBe(a.name);
        expect(result.agent.description).toBe(a.description);
        expect(result.agent.version).toBe(a.version);
        expect(result.agent.command).toEqual(a.argv);
        expect(result.agent.collectors.map((c) => [c.name, c.command])).toEqual(a.collectors.map((c) => [c.name, c.command]));
      }),
      budget(200),
    );
  });
});

describe('host policy (property)', () => {
  it('parsePolicy never throws on damaged or random text, and every error is located', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(POLICY), anyText), (text) => {
        const result = withinBound('parsePolicy', () => parsePolicy(text, 'policy.yaml'));
        if (!result.ok) expectLocated(result.errors, 'policy.yaml', text);
      }),
      budget(400),
    );
  });

  it('any suppress: entry, fields of any shape, is taken or refused with a located error; never thrown', () => {
    const field = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.constant(null), fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), fc.constantFrom('edr', 'memfd-executable', '/re(/', '2027-01-01', '1999-01-01', '2099-12-31'));
    const entry = fc.dictionary(fc.constantFrom('agent', 'rule', 'match', 'reason', 'expires', 'resource', 'extra'), fc.oneof(field, fc.dictionary(fc.constantFrom('resource', 'title', 'dedup_key', 'evidence', 'other'), field)));
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 4 }), (entries) => {
        const text = stringify({ suppress: entries });
        const result = withinBound('parsePolicy', () => parsePolicy(text, 'policy.yaml'));
        if (!result.ok) expectLocated(result.errors, 'policy.yaml', text);
      }),
      budget(300),
    );
  });

  it('a valid generated policy round-trips', () => {
    const glob = fc.stringMatching(/^[a-z*/][a-z0-9*/ ._-]{0,30}$/).map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('/') && !s.endsWith('/'));
    const list = fc.uniqueArray(glob, { maxLength: 4 });
    fc.assert(
      fc.property(fc.record({ agents: list, tools: list, commands: list, cp: fc.boolean() }), (p) => {
        const text = stringify({ deny: { agents: p.agents, tools: p.tools, commands: p.commands }, cp_definitions: p.cp });
        const result = parsePolicy(text, 'gen.yaml');
        if (!result.ok) {
          // A generated glob may be one the gate refuses (e.g. an empty segment): then the error must name it.
          expectLocated(result.errors, 'gen.yaml', text);
          return;
        }
        expect(result.policy.deny.agents.map((x) => x.pattern)).toEqual(p.agents);
        expect(result.policy.deny.tools.map((x) => x.pattern)).toEqual(p.tools);
        expect(result.policy.deny.commands.map((x) => x.pattern)).toEqual(p.commands);
      }),
      budget(200),
    );
  });
});

describe('orchestration specs (property)', () => {
  it('parseOrchestration never throws on damaged or random text, and every error is located', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(ORCHESTRATION), anyText), (text) => {
        const result = withinBound('parseOrchestration', () => parseOrchestration(text, 'fuzz.yaml'));
        if (!result.ok) expectLocated(result.errors, 'fuzz.yaml', text);
      }),
      budget(400),
    );
  });

  it('YAML bombs and deep nesting are refused quickly, not expanded', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 12 }), fc.integer({ min: 200, max: 5000 }), (levels, depth) => {
        const bomb = ['a: &a0 ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: levels }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(',')}]`)].join('\n');
        for (const text of [`name: x\n${bomb}\n`, `name: x\nsteps: ${'['.repeat(depth)}${']'.repeat(depth)}\n`]) {
          const result = withinBound('parseOrchestration', () => parseOrchestration(text, 'bomb.yaml'));
          expect(result.ok).toBe(false);
        }
      }),
      budget(20),
    );
  });
});
