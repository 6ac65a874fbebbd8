import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ruleSchema } from '../../../src/specs/rule-spec.js';
import { emptyRulesState, evaluateRules } from '../../../daimon/rules/evaluate-rules.js';
import { loadRulesState, readRulesState, saveRulesState } from '../../../daimon/rules/rules-state.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-rules-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('rules state file', () => {
  it('round-trips through the file (mode 0600) and keeps a last_run rule working across a reload', () => {
    const file = join(dir, 'agent', 'rules.json');
    const r = ruleSchema.parse({ name: 'r', collector: 'c', match: '.', new_since: 'last_run', finding: { severity: 'low', title: '{{line}}' } });
    const out = (output: string) => [{ name: 'c', output, exitCode: 0, durationMs: 1, truncated: false, skipped: false }];
    const scope = { host: 'h', agent: 'a', inputs: {} };
    saveRulesState(file, evaluateRules([r], out('a\n'), loadRulesState(file), scope).state);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = evaluateRules([r], out('a\nb\n'), loadRulesState(file), scope);
    expect(second.findings.map((f) => f.title)).toEqual(['b']);
  });

  it('a missing file is an empty state with no problem', () => {
    expect(readRulesState(join(dir, 'none.json'))).toEqual({ state: emptyRulesState() });
  });

  it.each([
    ['not JSON', '{oops', 'is not JSON'],
    ['another version', '{"version":2,"rules":{}}', 'is not a version 1 rules state'],
    ['bad hashes', '{"version":1,"rules":{"r":{"signature":"x","lines":["not hex"]}}}', 'is not a version 1 rules state'],
  ])('a corrupt file (%s) is an empty state with a problem', (_name, text, problem) => {
    const file = join(dir, 'rules.json');
    writeFileSync(file, text);
    const { state, problem: said } = readRulesState(file);
    expect(state).toEqual(emptyRulesState());
    expect(said).toContain(problem);
    expect(loadRulesState(file)).toEqual(emptyRulesState());
    expect(readFileSync(file, 'utf8')).toBe(text); // left alone for a human to look at
  });
});
