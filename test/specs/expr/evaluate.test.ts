import { describe, expect, it } from 'vitest';
import { ExpressionError, evaluateExpression, truthy } from '../../../src/specs/expr/evaluate.js';
import { parseExpression } from '../../../src/specs/expr/parse-expression.js';

const scope: Record<string, unknown> = {
  trigger: { host: 'web-1', pid: 4242, tags: ['a', 'b'], empty: [], zero: 0, blank: '', flag: false, nil: null },
  scan: {
    status: 'completed',
    result: { verdict: 'c2_callback', count: 3, ioc: '10.0.0.7', pids: [11, 22, 33], meta: { k: 'v', n: 2 } },
    findings: [{ severity: 'HIGH' }, { severity: 'LOW' }],
    nodes: ['web-1', 'web-2'],
    byNode: { 'web-1': { result: { pid: 7 } }, 'web-2': { status: 'failed' } },
  },
  finding: { severity: 'CRITICAL', agent: 'edr', title: 'beacon to 10.0.0.7' },
  'ioc-sweep': { status: 'completed' },
};

function run(source: string, s: Record<string, unknown> = scope): unknown {
  const parsed = parseExpression(source);
  if (!parsed.ok) throw new Error(`unexpected parse error: ${parsed.error}`);
  return evaluateExpression(parsed.expr, s, source);
}

describe('evaluateExpression: values', () => {
  it.each<[string, unknown]>([
    ['42', 42],
    ['-1.5', -1.5],
    ["'x'", 'x'],
    ['true', true],
    ['null', null],
    ["[1, 'a', [true]]", [1, 'a', [true]]],
    ['trigger.host', 'web-1'],
    ['trigger.pid', 4242],
    ['scan.result.pids[1]', 22],
    ['scan.nodes[0]', 'web-1'],
    ['scan.byNode["web-1"].result.pid', 7],
    ["scan.byNode['web-2'].status", 'failed'],
    ['scan.byNode[trigger.host].result.pid', 7],
    ['scan.byNode[scan.nodes[1]].status', 'failed'],
    ['ioc-sweep.status', 'completed'],
    ['scan.result.meta', { k: 'v', n: 2 }],
    ['[1, 2][1]', 2],
  ])('%s', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });

  it.each<[string]>([
    ['nope'],
    ['nope.deeper.still'],
    ['scan.result.missing'],
    ['scan.result.pids[3]'],
    ['scan.result.pids[-1]'],
    ['scan.result.pids[0.5]'],
    ["scan.result.pids['0']"],
    ['scan.byNode[0]'],
    ['scan.byNode["web-9"].result.pid'],
    ['trigger.host.length'],
    ['trigger.pid.x'],
    ['trigger.nil.x'],
    ['scan.byNode[nope]'],
  ])('a missing path evaluates to undefined: %s', (source) => {
    expect(run(source)).toBeUndefined();
  });
});

describe('evaluateExpression: operators', () => {
  it.each<[string, boolean]>([
    ["scan.result.verdict == 'c2_callback'", true],
    ["scan.result.verdict != 'c2_callback'", false],
    ["nope.result.verdict == 'c2_callback'", false],
    ['nope == null', true],
    ['trigger.nil == null', true],
    ['trigger.nil == nope', true],
    ['trigger.zero == false', false],
    ["trigger.zero == ''", false],
    ["trigger.pid == '4242'", false],
    ['trigger.pid == 4242', true],
    ['trigger.pid == 4242.0', true],
    ["trigger.tags == ['a', 'b']", true],
    ["trigger.tags == ['b', 'a']", false],
    ["trigger.tags == ['a']", false],
    ["scan.result.meta == scan.result.meta", true],
    ["scan.result.meta == trigger", false],
    ['trigger.empty == []', true],
    ['trigger.empty == null', false],
    ['scan.result.count > 2', true],
    ['scan.result.count >= 3', true],
    ['scan.result.count < 3', false],
    ['scan.result.count <= 3', true],
    ['-1 < 0', true],
    ["'abc' < 'abd'", true],
    ["'B' < 'a'", true],
    ["'b' >= 'b'", true],
    ["finding.severity in ['HIGH', 'CRITICAL']", true],
    ["finding.severity in ['HIGH', 'LOW']", false],
    ["finding.severity in ['HIGH','CRITICAL'] && finding.agent == 'edr'", true],
    ["finding.severity in ['HIGH','CRITICAL'] && finding.agent == 'osquery'", false],
    ['22 in scan.result.pids', true],
    ["'22' in scan.result.pids", false],
    ["[1] in [[1], [2]]", true],
    ["'10.0.0' in finding.title", true],
    ["'10.0.1' in finding.title", false],
    ["'k' in scan.result.meta", true],
    ["'z' in scan.result.meta", false],
    ["'constructor' in scan.result.meta", false],
    ["'__proto__' in scan.result.meta", false],
    ["'x' in nope", false],
    ["'x' in trigger.nil", false],
    ['scan.result.pids contains 33', true],
    ['scan.result.pids contains 34', false],
    ["finding.title contains 'beacon'", true],
    ["scan.result.meta contains 'n'", true],
    ['nope contains 1', false],
    ['!trigger.flag', true],
    ['!scan', false],
    ['!!scan', true],
    ['!nope', true],
    ["!scan.result.verdict == 'x'", true],
    ['scan && trigger', true],
    ['scan && nope', false],
    ['nope || trigger.host', true],
    ['nope || trigger.empty', false],
    ['(nope || scan) && !trigger.flag', true],
  ])('%s', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it('returns booleans from && and ||, not operands', () => {
    expect(run('trigger.host && trigger.pid')).toBe(true);
    expect(run("nope || 'x'")).toBe(true);
    expect(run('trigger.zero || trigger.blank')).toBe(false);
  });

  it('short-circuits: the right side of && and || is not evaluated when the left decides', () => {
    // The right side would throw (ordering a number against a string) if it were evaluated.
    expect(run("trigger.flag && 1 < 'x'")).toBe(false);
    expect(run("trigger.host || 1 < 'x'")).toBe(true);
    expect(() => run("trigger.host && 1 < 'x'")).toThrow(ExpressionError);
  });
});

describe('evaluateExpression: filters', () => {
  it.each<[string, unknown]>([
    ['scan.result.pids | length', 3],
    ['trigger.host | length', 5],
    ['scan.result.meta | length', 2],
    ['nope | length', 0],
    ['trigger.nil | length', 0],
    ['trigger.empty | length', 0],
    ['scan.result.pids | first', 11],
    ['scan.result.pids | last', 33],
    ['trigger.empty | first', undefined],
    ['trigger.empty | last', undefined],
    ['nope | first', undefined],
    ['scan.findings | first', { severity: 'HIGH' }],
    ['(scan.findings | last).severity', 'LOW'],
    ['scan.result.meta | json', '{"k":"v","n":2}'],
    ['trigger.tags | json', '["a","b"]'],
    ['trigger.host | json', '"web-1"'],
    ['nope | json', 'null'],
    ['scan.result.pids | first | json', '11'],
    ['scan.result.pids | json | length', 10],
    ['(scan.result.pids | length) > 2', true],
    ['(scan.findings | length) == 2 && (scan.nodes | first) == trigger.host', true],
  ])('%s', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });
});

describe('evaluateExpression: errors name the expression', () => {
  it.each<[string, string]>([
    ["scan.result.count > 'x'", `in "scan.result.count > 'x'": cannot compare a number with a string using >`],
    ['scan.result.missing > 3', 'in "scan.result.missing > 3": cannot compare a missing value with a number using >'],
    ['true < false', 'in "true < false": cannot compare a boolean with a boolean using <'],
    ['null <= 1', 'in "null <= 1": cannot compare null with a number using <='],
    ['trigger.tags >= trigger.tags', 'in "trigger.tags >= trigger.tags": cannot compare a list with a list using >='],
    ['scan.result.meta < 1', 'in "scan.result.meta < 1": cannot compare an object with a number using <'],
    ['1 < 2 < 3', 'in "1 < 2 < 3": cannot compare a boolean with a number using <'],
    ["1 in 'abc'", `in "1 in 'abc'": cannot look for a number in a string`],
    ['1 in scan.result.meta', 'in "1 in scan.result.meta": cannot look for a number in an object'],
    ["'a' in 3", `in "'a' in 3": cannot look for a string in a number`],
    ['trigger.pid contains 4', 'in "trigger.pid contains 4": cannot look for a number in a number'],
    ['trigger.pid | length', 'in "trigger.pid | length": cannot take the length of a number'],
    ['trigger.flag | length', 'in "trigger.flag | length": cannot take the length of a boolean'],
    ['trigger.host | first', 'in "trigger.host | first": first needs a list, not a string'],
    ['scan.result.meta | last', 'in "scan.result.meta | last": last needs a list, not an object'],
  ])('%s', (source, message) => {
    let caught: unknown;
    try {
      run(source);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ExpressionError);
    expect((caught as ExpressionError).message).toBe(message);
    expect((caught as ExpressionError).expression).toBe(source);
    expect((caught as ExpressionError).name).toBe('ExpressionError');
  });
});

describe('evaluateExpression: safety', () => {
  const hostile = JSON.parse('{"__proto__": {"polluted": 1}, "ok": 1}') as Record<string, unknown>;
  class Secret {
    readonly token = 'hunter2';
  }

  it.each<[string, Record<string, unknown>]>([
    ['constructor', scope],
    ['__proto__', scope],
    ['prototype', scope],
    ['scan.constructor', scope],
    ['scan.__proto__', scope],
    ['scan.constructor.name', scope],
    ["scan['constructor']", scope],
    ["scan['__proto__']", scope],
    ['scan.nodes.length', scope],
    ["scan.result.pids['length']", scope],
    ['scan.result.pids.map', scope],
    ['trigger.host.toString', scope],
    ['scan.hasOwnProperty', scope],
    ['h.__proto__.polluted', { h: hostile }],
    ['s.token', { s: new Secret() }],
    ['d.getTime', { d: new Date(0) }],
    ['toString', scope],
  ])('reads only own properties of plain objects: %s is undefined', (source, s) => {
    expect(run(source, s)).toBeUndefined();
  });

  it('still reads ordinary keys of a parsed object with a __proto__ key', () => {
    expect(run('h.ok', { h: JSON.parse('{"__proto__": {"polluted": 1}, "ok": 1}') as Record<string, unknown> })).toBe(1);
  });

  it('reads from a scope with a null prototype', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: { b: 1 } });
    expect(run('a.b', bare)).toBe(1);
  });

  it('fails cleanly instead of looping on cyclic values', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    const b: Record<string, unknown> = {};
    b.self = b;
    expect(() => run('a == b', { a, b })).toThrow(/in "a == b": values nest deeper than 200 levels/);
    expect(() => run('a | json', { a })).toThrow(/in "a \| json": cannot write the value as JSON/);
    expect(run('a.self.self.self == a', { a })).toBe(true);
  });

  it('does not mutate the scope', () => {
    const s = structuredClone(scope);
    run("scan.byNode[trigger.host].result.pid in scan.result.pids || (scan.nodes | first | json | length) > 0", s);
    expect(s).toEqual(scope);
  });
});

describe('truthy', () => {
  it.each<[unknown, boolean]>([
    [false, false],
    [null, false],
    [undefined, false],
    [0, false],
    [Number.NaN, false],
    ['', false],
    [[], false],
    [true, true],
    [1, true],
    [-1, true],
    ['0', true],
    ['false', true],
    [' ', true],
    [[0], true],
    [{}, true],
    [{ a: 1 }, true],
  ])('%j → %s', (value, expected) => {
    expect(truthy(value)).toBe(expected);
  });
});
