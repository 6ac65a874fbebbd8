import { describe, expect, it } from 'vitest';
import { formatSpecError, parseAgent } from '../../src/specs/parse-agent.js';
import type { AgentSpec } from '../../src/specs/agent-spec.js';

/** Builds an agent file from frontmatter lines and a body. */
function file(front: string[], body = 'You are a careful agent.'): string {
  return ['---', ...front, '---', '', body, ''].join('\n');
}

function ok(text: string): AgentSpec {
  const r = parseAgent(text, 'a.md');
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  return r.agent;
}

function errors(text: string): string[] {
  const r = parseAgent(text, 'a.md');
  if (r.ok) throw new Error('expected errors, the agent parsed');
  return r.errors.map(formatSpecError);
}

describe('parseAgent: defaults', () => {
  it('fills every default of a minimal agent', () => {
    expect(ok(file(['name: edr', 'model: claude-sonnet-4-5']))).toEqual({
      name: 'edr',
      version: '0.0.0',
      description: '',
      provider: 'claude',
      model: 'claude-sonnet-4-5',
      effort: 'medium',
      maxTurns: 20,
      timeoutMs: 300_000,
      mode: 'oneshot',
      overlap: 'skip',
      tools: [],
      rbac: { allow: [], deny: [] },
      collectors: [],
      inputs: {},
      rules: [],
      dedupeTtlMs: 86_400_000,
      env: [],
      body: 'You are a careful agent.',
      source: 'a.md',
    });
  });

  it('reads every field of a full agent', () => {
    const agent = ok(file([
      'name: sre-health',
      'version: "1.2.0"',
      'description: Disk, memory and load',
      'provider: codex',
      'model: gpt-5',
      'effort: high',
      'maxTurns: 8',
      'timeout: 90s',
      'mode: daemon',
      'cron: "*/5 * * * *"',
      'overlap: queue',
      'tools: [bash, read_file, bash]',
      'rbac:',
      '  allow: [{ tool: bash, pattern: "^df ", reason: disk usage }]',
      '  deny:',
      '    - tool: bash',
      '      pattern: rm',
      'collectors:',
      '  - { name: df, command: df -P }',
      '  - { name: units, command: systemctl --failed, timeout: 5s, optional: true, emit_output: true }',
      'inputs:',
      '  disk_full_pct: 95',
      '  mounts: { default: [/, /var], description: what to check }',
      'rules:',
      '  - name: disk-full',
      '    collector: df',
      '    match: \'^(?<fs>\\S+)\\s+\\d+\\s+\\d+\\s+\\d+\\s+(?<pct>\\d+)%\\s+(?<mount>\\S+)$\'',
      '    threshold: { capture: pct, op: ">=", value: "{{inputs.disk_full_pct}}" }',
      '    finding: { severity: high, title: "Filesystem {{mount}} is full", category: config, resource: "mount:{{mount}}" }',
      'dedupeTtl: 1h30m',
    ]));
    expect(agent).toMatchObject({
      version: '1.2.0', description: 'Disk, memory and load', provider: 'codex', effort: 'high', maxTurns: 8,
      timeoutMs: 90_000, mode: 'daemon', cron: '*/5 * * * *', overlap: 'queue', tools: ['bash', 'read_file'],
      rbac: { allow: [{ tool: 'bash', pattern: '^df ', reason: 'disk usage' }], deny: [{ tool: 'bash', pattern: 'rm' }] },
      collectors: [
        { name: 'df', command: 'df -P', timeoutMs: 30_000, optional: false, emitOutput: false },
        { name: 'units', command: 'systemctl --failed', timeoutMs: 5_000, optional: true, emitOutput: true },
      ],
      inputs: { disk_full_pct: { default: 95, description: '' }, mounts: { default: ['/', '/var'], description: 'what to check' } },
      rules: [{
        name: 'disk-full', collector: 'df', flags: '', newSince: 'always', maxFindings: 50,
        threshold: { capture: 'pct', op: '>=', value: '{{inputs.disk_full_pct}}' },
        finding: { severity: 'high', title: 'Filesystem {{mount}} is full', category: 'config', resource: 'mount:{{mount}}', dedup_key: '', evidence: '{{line}}', tags: [] },
      }],
      dedupeTtlMs: 5_400_000,
    });
    expect(agent.intervalMs).toBeUndefined();
  });

  it('keeps a numeric version as written', () => {
    expect(ok(file(['name: a', 'model: opus', 'version: 1.10'])).version).toBe('1.10');
  });

  it('keeps the body, without the leading blank lines', () => {
    const agent = ok('---\nname: a\nmodel: haiku\n---\n\n\n# Title\n\nUse {{ host }}.\n\n');
    expect(agent.body).toBe('# Title\n\nUse {{ host }}.');
  });

  it('accepts CRLF line ends', () => {
    expect(ok('---\r\nname: a\r\nmodel: sonnet\r\n---\r\nbody\r\n').name).toBe('a');
  });
});

describe('parseAgent: provider', () => {
  it.each([
    ['model: claude-opus-4-1', 'claude'],
    ['model: opus', 'claude'],
    ['model: sonnet', 'claude'],
    ['model: haiku-4', 'claude'],
    ['model: gpt-5', 'codex'],
    ['model: o3', 'codex'],
    ['model: o4-mini', 'codex'],
    ['model: o1', 'codex'],
    ['model: codex-mini-latest', 'codex'],
    ['command: ./my-agent', 'custom'],
    ['command: [python3, agent.py]', 'custom'],
  ])('%s → %s', (line, provider) => {
    expect(ok(file(['name: a', line])).provider).toBe(provider);
  });

  it('an explicit provider wins over the model', () => {
    expect(ok(file(['name: a', 'provider: codex', 'model: my-proxy-model'])).provider).toBe('codex');
  });

  it('keeps an argv command as a list and a shell command as a string', () => {
    expect(ok(file(['name: a', 'provider: custom', 'command: [node, x.js]'])).command).toEqual(['node', 'x.js']);
    expect(ok(file(['name: a', 'provider: custom', 'command: node x.js | tee log'])).command).toBe('node x.js | tee log');
  });
});

describe('parseAgent: errors', () => {
  it.each([
    ['a bad provider', ['name: a', 'provider: clod'], 'a.md:3:11: provider: expected one of claude, codex, custom'],
    ['a typo in a field name', ['name: a', 'model: opus', 'timout: 5m'], 'a.md:4:1: timout: unknown field; did you mean timeout?'],
    ['a bad duration', ['name: a', 'model: opus', 'timeout: 5 minutes'], 'a.md:4:10: timeout: expected a duration like 30s, 5m, 1h or 7d, got "5 minutes"'],
    ['a number as duration', ['name: a', 'model: opus', 'timeout: 300'], 'a.md:4:10: timeout: expected a duration like 30s, 5m, 1h or 7d, got 300'],
    ['a bad effort', ['name: a', 'model: opus', 'effort: max'], 'a.md:4:9: effort: expected one of low, medium, high'],
    ['a missing name', ['model: opus'], 'a.md:2:1: name: is required'],
    ['a bad name', ['name: Bad Name', 'model: opus'], 'a.md:2:7: name: expected an agent name (a-z, 0-9, . _ -, at most 64)'],
    ['a fractional maxTurns', ['name: a', 'model: opus', 'maxTurns: 2.5'], 'a.md:4:11: maxTurns: must be a whole number'],
    ['interval and cron', ['name: a', 'model: opus', 'mode: daemon', 'interval: 5m', 'cron: "* * * * *"'], 'a.md:6:7: cron: set either interval or cron, not both'],
    ['custom without command', ['name: a', 'provider: custom'], 'a.md:2:1: command: is required with provider: custom'],
    ['a command with an LLM provider', ['name: a', 'provider: claude', 'command: x'], 'a.md:4:10: command: is only used with provider: custom, not claude'],
    ['an unknown model family', ['name: a', 'model: llama3'], 'a.md:3:8: model: cannot tell the provider from model "llama3"; set provider: claude, codex, custom'],
    ['no provider, model or command', ['name: a'], 'a.md:2:1: provider: is required when there is no model or command (claude, codex, custom)'],
    ['a daemon without schedule', ['name: a', 'model: opus', 'mode: daemon'], 'a.md:4:7: mode: mode: daemon needs a schedule: set interval or cron'],
    ['a schedule on a oneshot', ['name: a', 'model: opus', 'interval: 5m'], 'a.md:4:11: interval: is only used with mode: daemon'],
    ['a bad cron', ['name: a', 'model: opus', 'mode: daemon', 'cron: every day'], 'a.md:5:7: cron: expected 5 fields (minute hour day-of-month month day-of-week), got 2'],
    ['an impossible cron', ['name: a', 'model: opus', 'mode: daemon', 'cron: "0 0 31 2 *"'], 'a.md:5:7: cron: never matches a date (e.g. 31 February)'],
    ['an rbac path pattern that cannot match', ['name: a', 'model: opus', 'rbac:', '  deny: [{ tool: read_file, pattern: "*.pem" }]'], 'a.md:5:38: rbac.deny.0.pattern: paths are matched as absolute paths: start the pattern with / or **'],
    ['a command of the wrong type', ['name: a', 'command: { run: x }'], 'a.md:3:10: command: expected a string (run under sh -c) or a list of arguments (run directly)'],
    ['an empty command list', ['name: a', 'command: []'], 'a.md:3:10: command: must not be empty'],
    ['an env entry that is no variable name', ['name: a', 'model: opus', 'env: [AWS-KEY]'], 'a.md:4:7: env.0: expected an environment variable name (letters, digits, _)'],
    ['an env entry the daimon sets itself', ['name: a', 'model: opus', 'env: [HTTPS_PROXY, OKESU_JOIN_TOKEN]'], 'a.md:4:20: env.1: the daimon sets OKESU_* variables itself; they are never passed from its environment'],
    ['a nested unknown field', ['name: a', 'model: opus', 'collectors:', '  - name: ps', '    command: ps', '    timeot: 3s'], 'a.md:7:5: collectors.0.timeot: unknown field; did you mean timeout?'],
    ['a nested bad value', ['name: a', 'model: opus', 'collectors:', '  - { name: ps, command: ps, timeout: soon }'], 'a.md:5:39: collectors.0.timeout: expected a duration like 30s, 5m, 1h or 7d, got "soon"'],
    ['a duplicate collector', ['name: a', 'model: opus', 'collectors:', '  - { name: ps, command: ps }', '  - { name: ps, command: ps -ef }'], 'a.md:6:13: collectors.1.name: duplicate collector name "ps"'],
    ['an rbac rule without tool', ['name: a', 'model: opus', 'rbac:', '  deny:', '    - pattern: rm'], 'a.md:6:7: rbac.deny.0.tool: is required'],
    ['a rule that is not a mapping', ['name: a', 'model: opus', 'rules: [disk-full]'], 'a.md:4:9: rules.0: expected a rule: a mapping of name, collector, match, finding…'],
    ['a rule over an unknown collector', ['name: a', 'model: opus', 'collectors: [{ name: ps, command: ps }]', 'rules:', '  - { name: r, collector: pss, match: x, finding: { severity: high, title: t } }'],
      'a.md:6:27: rules.0.collector: no collector named "pss" (have: ps)'],
    ['a rule with a bad regex', ['name: a', 'model: opus', 'collectors: [{ name: ps, command: ps }]', 'rules:', '  - { name: r, collector: ps, match: "(?<x", finding: { severity: high, title: t } }'],
      'a.md:6:38: rules.0.match: invalid regular expression: Invalid regular expression: /(?<x/: Invalid capture group name'],
    ['a threshold on a missing capture', ['name: a', 'model: opus', 'collectors: [{ name: ps, command: ps }]', 'rules:', `  - { name: r, collector: ps, match: '(?<n>\\d+)', threshold: { capture: m, op: ">", value: 1 }, finding: { severity: high, title: t } }`],
      'a.md:6:73: rules.0.threshold.capture: match has no named group (?<m>…)'],
    ['a rule with an unknown field', ['name: a', 'model: opus', 'collectors: [{ name: ps, command: ps }]', 'rules:', '  - { name: r, collector: ps, mach: x, finding: { severity: high, title: t } }'],
      'a.md:6:31: rules.0.mach: unknown field; did you mean match?'],
    ['an input with a bad name', ['name: a', 'model: opus', 'inputs: { Disk: 1 }'], 'a.md:4:17: inputs.Disk: expected an input name (a-z, 0-9, _)'],
    ['an input of a bad type', ['name: a', 'model: opus', 'inputs: { disk: { nested: 1 } }'], 'a.md:4:17: inputs.disk: expected a default value (a string, a number, true/false or a list of strings) or { default, description }'],
    ['invalid YAML', ['name: a', 'tools: [bash', 'model: opus'], 'a.md:4:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['a duplicate key', ['name: a', 'model: opus', 'model: sonnet'], 'a.md:4:1: invalid YAML: Map keys must be unique'],
  ])('%s', (_label, front, expected) => {
    expect(errors(file(front)), JSON.stringify(errors(file(front)))).toContain(expected);
  });

  it('reports every error at once, in file order', () => {
    expect(errors(file(['name: a', 'provider: clod', 'timout: 5m', 'effort: max']))).toEqual([
      'a.md:3:11: provider: expected one of claude, codex, custom',
      'a.md:4:1: timout: unknown field; did you mean timeout?',
      'a.md:5:9: effort: expected one of low, medium, high',
    ]);
  });

  it.each([
    ['no frontmatter', '# Just markdown\n', 'a.md:1:1: expected YAML frontmatter: the file must start with a --- line, then the fields, then another --- line'],
    ['an unclosed frontmatter', '---\nname: a\n', 'a.md:1:1: frontmatter is not closed: add a --- line after the fields'],
    ['a frontmatter that is a list', '---\n- a\n- b\n---\n', 'a.md:2:1: frontmatter must be a mapping of fields (name: value)'],
    ['an empty frontmatter', '---\n---\nbody\n', 'a.md:2:1: name: is required'],
    ['an oversized file', `---\nname: a\nmodel: opus\n---\n${'x'.repeat(300 * 1024)}`, 'a.md:1:1: agent file is 307228 bytes; the limit is 262144'],
  ])('%s', (_label, text, expected) => {
    expect(errors(text)).toContain(expected);
  });

  it('returns structured errors with the field and position', () => {
    const r = parseAgent(file(['name: a', 'provider: custom', 'command: x', 'overlap: wait']), 'agents/a.md');
    expect(r).toEqual({
      ok: false,
      errors: [{ source: 'agents/a.md', line: 5, column: 10, field: 'overlap', message: 'expected one of skip, queue' }],
    });
  });
});
