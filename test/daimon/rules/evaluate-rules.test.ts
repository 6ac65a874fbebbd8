import { describe, expect, it } from 'vitest';
import type { EventBody } from '../../../src/protocol/event.js';
import { ruleSchema } from '../../../src/specs/rule-spec.js';
import type { RuleSpec } from '../../../src/specs/rule-spec.js';
import type { CollectorOutput } from '../../../daimon/provider.js';
import { emptyRulesState, evaluateRules, lineHash } from '../../../daimon/rules/evaluate-rules.js';
import type { RulesState } from '../../../daimon/rules/evaluate-rules.js';

const scope = { host: 'web-1', agent: 'sre', inputs: { disk_full_pct: 90, shells: 'bash,zsh' } };

function rule(fields: Record<string, unknown>): RuleSpec {
  return ruleSchema.parse({ name: 'r', collector: 'c', finding: { severity: 'high', title: 'Title {{line}}' }, ...fields });
}

function out(output: string, fields: Partial<CollectorOutput> = {}): CollectorOutput {
  return { name: 'c', output, exitCode: 0, durationMs: 1, truncated: false, skipped: false, ...fields };
}

const titles = (findings: EventBody[]): unknown[] => findings.map((f) => f.title);

/** Runs one rule over a sequence of outputs, threading the state; returns each run's result. */
function runs(r: RuleSpec, outputs: CollectorOutput[], state: RulesState = emptyRulesState()) {
  return outputs.map((o) => {
    const result = evaluateRules([r], [o], state, scope);
    state = result.state;
    return result;
  });
}

describe('evaluateRules: matching and findings', () => {
  it('turns named captures into template variables of a valid finding', () => {
    const r = rule({
      match: '^(?<mount>\\S+)\\s+(?<pct>\\d+)%$',
      finding: {
        severity: 'medium', title: 'Disk {{mount}} is {{pct}}% full on {{host}}', category: 'config',
        resource: 'mount:{{mount}}', dedup_key: 'disk:{{mount}}', recommended_action: 'Free space on {{mount}}', tags: ['disk', '{{agent}}', '{{nope}}'],
      },
    });
    const { findings, problems } = evaluateRules([r], [out('/ 95%\n/boot 12%\nnoise\n')], emptyRulesState(), scope);
    expect(problems).toEqual([]);
    expect(findings).toEqual([
      {
        type: 'finding', severity: 'MEDIUM', title: 'Disk / is 95% full on web-1', category: 'config', resource: 'mount:/',
        dedup_key: 'disk:/', evidence: ['/ 95%'], recommended_action: 'Free space on /', tags: ['disk', 'sre'], attributes: { rule: 'r', collector: 'c' },
      },
      expect.objectContaining({ title: 'Disk /boot is 12% full on web-1', evidence: ['/boot 12%'] }),
    ]);
  });

  it('honours the i flag, drops only a trailing empty line, and strips CR', () => {
    const r = rule({ match: '^error', flags: 'i', finding: { severity: 'low', title: '[{{line}}]' } });
    const { findings } = evaluateRules([r], [out('ERROR a\r\nerror b\n\nError c')], emptyRulesState(), scope);
    expect(titles(findings)).toEqual(['[ERROR a]', '[error b]', '[Error c]']);
  });

  it('keeps hostile captures literal: placeholders and quotes in host data are never expanded', () => {
    const r = rule({ match: '^user (?<who>.*)$', finding: { severity: 'low', title: 'user {{who}}', resource: 'user:{{who}}' } });
    const line = 'user {{inputs.disk_full_pct}} "}" \\" {{host}}';
    const { findings } = evaluateRules([r], [out(`${line}\n`)], emptyRulesState(), scope);
    expect(findings[0]).toMatchObject({
      title: 'user {{inputs.disk_full_pct}} "}" \\" {{host}}',
      resource: 'user:{{inputs.disk_full_pct}} "}" \\" {{host}}',
      evidence: [line],
    });
  });

  it('lets the platform names win over a capture of the same name', () => {
    const r = rule({ match: '^(?<host>\\S+)', finding: { severity: 'low', title: '{{host}}' } });
    const { findings } = evaluateRules([r], [out('evil.example\n')], emptyRulesState(), scope);
    expect(titles(findings)).toEqual(['web-1']);
  });

  it('cuts a long title to 120 characters and keeps the finding', () => {
    const r = rule({ match: '.', finding: { severity: 'low', title: '{{line}}' } });
    const { findings } = evaluateRules([r], [out(`${'x'.repeat(300)}\n`)], emptyRulesState(), scope);
    expect(String(findings[0]?.title)).toHaveLength(120);
  });

  it('drops a finding whose severity renders to junk, naming the rule and the field', () => {
    const r = rule({ match: '^(?<sev>\\w+) (?<what>.*)$', finding: { severity: '{{sev}}', title: '{{what}}' } });
    const { findings, problems } = evaluateRules([r], [out('high ok\nbogus bad\nweird worse\n')], emptyRulesState(), scope);
    expect(titles(findings)).toEqual(['ok']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^rule r: dropped a finding: severity: expected one of CRITICAL/);
  });

  it('reports at most max_findings per run and notes the overflow', () => {
    const r = rule({ match: '.', max_findings: 2 });
    const { findings, problems } = evaluateRules([r], [out('a\nb\nc\nd\ne\n')], emptyRulesState(), scope);
    expect(titles(findings)).toEqual(['Title a', 'Title b']);
    expect(problems).toEqual(['rule r: 3 more findings not reported (max_findings 2)']);
  });
});

describe('evaluateRules: thresholds', () => {
  const disk = (op: string, value: unknown) =>
    rule({ match: '^(?<mount>\\S+) (?<pct>\\S+)$', threshold: { capture: 'pct', op, value }, finding: { severity: 'low', title: '{{mount}}' } });
  const lines = '/a 95\n/b 90\n/c 12\n/d 90.0\n';

  it.each([
    ['>', '{{inputs.disk_full_pct}}', ['/a']],
    ['>=', '{{ inputs.disk_full_pct }}', ['/a', '/b', '/d']],
    ['<', 90, ['/c']],
    ['<=', '90', ['/b', '/c', '/d']],
    ['==', '90', ['/b', '/d']],
    ['!=', '90', ['/a', '/c']],
    ['in', '95, 12 7', ['/a', '/c']],
    ['not_in', ['95', '12'], ['/b', '/d']],
  ])('%s %s', (op, value, expected) => {
    const { findings, problems } = evaluateRules([disk(op, value)], [out(lines)], emptyRulesState(), scope);
    expect(problems).toEqual([]);
    expect(titles(findings)).toEqual(expected);
  });

  it('compares == as strings when a side is not numeric', () => {
    const r = rule({ match: '^(?<user>\\S+)$', threshold: { capture: 'user', op: '==', value: 'root' }, finding: { severity: 'low', title: '{{user}}' } });
    expect(titles(evaluateRules([r], [out('root\nbob\n')], emptyRulesState(), scope).findings)).toEqual(['root']);
  });

  it('in reads a list from an input', () => {
    const r = rule({ match: '^(?<sh>\\S+)$', threshold: { capture: 'sh', op: 'in', value: '{{inputs.shells}}' }, finding: { severity: 'low', title: '{{sh}}' } });
    expect(titles(evaluateRules([r], [out('bash\nfish\nzsh\n')], emptyRulesState(), scope).findings)).toEqual(['bash', 'zsh']);
  });

  it('a non-numeric side fails the line, with one problem per rule', () => {
    const { findings, problems } = evaluateRules([disk('>', '50')], [out('/a 95\n/b n/a\n/c x\n')], emptyRulesState(), scope);
    expect(titles(findings)).toEqual(['/a']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('rule r: threshold pct > "50": not a number on the captured side');
  });
});

describe('evaluateRules: new_since', () => {
  it('last_run: the first run is silent, then only new lines, then nothing', () => {
    const r = rule({ match: '.', new_since: 'last_run' });
    const [first, second, third] = runs(r, [out('a\nb\n'), out('b\nc\nd\nc\n'), out('b\nc\nd\n')]);
    expect(first?.findings).toEqual([]);
    expect(titles(second?.findings ?? [])).toEqual(['Title c', 'Title d']);
    expect(third?.findings).toEqual([]);
  });

  it('baseline with key: a changed line is reported every run, a new key joins silently', () => {
    const r = rule({ match: '^(?<hash>[0-9a-f]+)\\s+(?<path>\\S+)$', new_since: 'baseline', key: 'path', finding: { severity: 'high', title: 'changed {{path}}' } });
    const results = runs(r, [
      out('aaa /bin/ls\nbbb /bin/cat\n'),
      out('aaa /bin/ls\nbbb /bin/cat\nccc /bin/new\n'),
      out('fff /bin/ls\nbbb /bin/cat\nccc /bin/new\n'),
      out('fff /bin/ls\nbbb /bin/cat\nccc /bin/new\n'),
      out('aaa /bin/ls\nbbb /bin/cat\nccc /bin/new\n'),
    ]);
    expect(results.map((x) => titles(x.findings))).toEqual([[], [], ['changed /bin/ls'], ['changed /bin/ls'], []]);
    // Only hashes are stored, never the host's text.
    expect(JSON.stringify(results.at(-1)?.state)).not.toContain('/bin/');
  });

  it('baseline without key: the first set is the baseline forever', () => {
    const r = rule({ match: '.', new_since: 'baseline' });
    const results = runs(r, [out('a\nb\n'), out('a\nc\n'), out('c\nd\n'), out('a\nb\n')]);
    expect(results.map((x) => titles(x.findings))).toEqual([[], ['Title c'], ['Title c', 'Title d'], []]);
  });

  it('a failed, skipped or missing collector keeps the state and reports nothing', () => {
    const r = rule({ match: '.', new_since: 'last_run' });
    const first = evaluateRules([r], [out('a\n')], emptyRulesState(), scope);
    const outcomes = [
      evaluateRules([r], [out('zzz\n', { exitCode: 1, error: 'exit code 1: boom' })], first.state, scope),
      evaluateRules([r], [out('', { exitCode: 77, skipped: true })], first.state, scope),
      evaluateRules([r], [], first.state, scope),
    ];
    for (const o of outcomes) {
      expect(o.findings).toEqual([]);
      expect(o.state).toEqual(first.state);
    }
    expect(outcomes[2]?.problems).toEqual(['rule r: no output of collector c']);
    // The baseline survived: the next good run compares against it.
    const next = evaluateRules([r], [out('a\nb\n')], outcomes[0]?.state ?? emptyRulesState(), scope);
    expect(titles(next.findings)).toEqual(['Title b']);
  });

  it('a changed rule starts afresh; a removed rule loses its state', () => {
    const r = rule({ match: '.', new_since: 'last_run' });
    const first = evaluateRules([r], [out('a\n')], emptyRulesState(), scope);
    expect(first.state.rules.r?.lines).toEqual([lineHash('a')]);
    const changed = rule({ match: '^.', new_since: 'last_run' });
    expect(evaluateRules([changed], [out('a\nb\n')], first.state, scope).findings).toEqual([]);
    expect(evaluateRules([], [out('a\n')], first.state, scope).state.rules).toEqual({});
  });
});
