import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureGroups } from '../../src/specs/rule-spec.js';
import { formatSpecError, parseAgent } from '../../src/specs/parse-agent.js';
import { templatePaths } from '../../src/specs/template.js';
import { AGENTS_DIR, loadBuiltin } from './sandbox.js';

const BUILTINS = ['host-check', 'edr', 'instance-integrity', 'instance-threat', 'persistence', 'sre-health', 'edr-investigator', 'forensic-collector'];
const MONITORS = ['edr', 'instance-integrity', 'instance-threat', 'persistence', 'sre-health'];
// The names rule templates get besides a line's captures (daimon/rules/evaluate-rules.ts).
const RULE_SCOPE = new Set(['line', 'host', 'agent', 'collector', 'inputs']);

describe('built-in agents: files', () => {
  it.each(BUILTINS)('%s parses with no errors and is named after its file', (name) => {
    const source = join(AGENTS_DIR, `${name}.md`);
    const r = parseAgent(readFileSync(source, 'utf8'), source);
    expect(r.ok ? [] : r.errors.map(formatSpecError)).toEqual([]);
    if (r.ok) expect(r.agent.name).toBe(name);
  });

  it.each(MONITORS)('%s is a scheduled claude agent with collectors, rules and read-only tools', (name) => {
    const a = loadBuiltin(name);
    expect(a.mode).toBe('daemon');
    expect(a.intervalMs).toBeGreaterThanOrEqual(60_000);
    expect(a.provider).toBe('claude');
    expect(a.collectors.length).toBeGreaterThanOrEqual(4);
    expect(a.rules.length).toBeGreaterThanOrEqual(4);
    expect(a.tools).not.toContain('bash');
    expect(a.body).toMatch(/host data/i);
    expect(a.body).toMatch(/never (as )?instructions|not instructions|never instructions/i);
  });

  it('edr-investigator is a oneshot claude agent whose bash is gated, and forensic-collector needs no model', () => {
    const inv = loadBuiltin('edr-investigator');
    expect(inv).toMatchObject({ mode: 'oneshot', provider: 'claude' });
    expect(inv.tools).toEqual(expect.arrayContaining(['bash', 'read_file', 'list_files', 'search']));
    expect(inv.rbac.allow.some((r) => r.tool === 'bash')).toBe(true);
    expect(inv.body).toMatch(/report_result/);
    const fc = loadBuiltin('forensic-collector');
    expect(fc).toMatchObject({ mode: 'oneshot', provider: 'custom' });
    expect(fc.collectors.length).toBeGreaterThanOrEqual(6);
    expect(fc.collectors.every((c) => c.emitOutput)).toBe(true);
  });

  it.each(BUILTINS)('%s never templates into a collector command and reads only inputs it declares', (name) => {
    const a = loadBuiltin(name);
    for (const c of a.collectors) {
      expect(c.command, `${name}/${c.name}`).not.toMatch(/\{\{/);
      for (const m of c.command.matchAll(/OKESU_INPUT_([A-Z0-9_]+)/g)) {
        expect(Object.keys(a.inputs), `${name}/${c.name} reads ${m[0]}`).toContain((m[1] as string).toLowerCase());
      }
      // No collector line may close the frontmatter early or pass host data to a second shell.
      expect(c.command).not.toMatch(/\beval\b|sh -c "\$/);
    }
  });

  it.each(BUILTINS)('%s rule templates only use the line’s captures, line, host and declared inputs', (name) => {
    const a = loadBuiltin(name);
    for (const rule of a.rules) {
      const groups = captureGroups(new RegExp(rule.match, rule.flags));
      for (const g of groups) expect(RULE_SCOPE.has(g), `${name}/${rule.name}: capture ${g} is shadowed by the platform`).toBe(false);
      const templates = [rule.finding.severity, rule.finding.title, rule.finding.category, rule.finding.resource, rule.finding.dedup_key,
        rule.finding.evidence, rule.finding.recommended_action ?? '', rule.threshold?.value ?? ''];
      for (const path of templates.flatMap(templatePaths)) {
        const [head, tail] = path.split('.');
        if (head === 'inputs') expect(Object.keys(a.inputs), `${name}/${rule.name} uses ${path}`).toContain(tail);
        else expect(groups.has(head as string) || RULE_SCOPE.has(head as string), `${name}/${rule.name} uses ${path}`).toBe(true);
      }
      // Titles are stable: no placeholders, no counters (SPEC §5.2).
      expect(templatePaths(rule.finding.title), `${name}/${rule.name} title`).toEqual([]);
      expect(rule.finding.title.length).toBeLessThanOrEqual(120);
    }
  });
});
