import { describe, expect, it } from 'vitest';
import type { OrchestrationInput, OrchestrationSpec } from '../../../src/specs/orchestration/orchestration-types.js';
import { coerceInput, resolveTrigger } from '../../../src/specs/orchestration/resolve-trigger.js';

function specWith(inputs: Record<string, Partial<OrchestrationInput> & Pick<OrchestrationInput, 'type'>>): OrchestrationSpec {
  const full: Record<string, OrchestrationInput> = {};
  for (const [name, input] of Object.entries(inputs)) full[name] = { required: false, description: '', ...input };
  return {
    name: 't',
    description: '',
    inputs: full,
    defaults: { timeoutMs: 300_000, dispatch: 'auto' },
    triggers: [],
    steps: [{ id: 'a', agent: 'edr', target: { kind: 'node', node: 'h' }, prompt: '', inputs: {}, approval: false, continueOnError: false, timeoutMs: 300_000, dispatch: 'auto' }],
    source: 't.yaml',
  };
}

describe('coerceInput', () => {
  it.each([
    ['int', 42, 42],
    ['int', '42', 42],
    ['int', ' -7 ', -7],
    ['number', 1.5, 1.5],
    ['number', '2.25', 2.25],
    ['number', '1e3', 1000],
    ['bool', true, true],
    ['bool', 'yes', true],
    ['bool', 'NO', false],
    ['bool', '1', true],
    ['bool', '0', false],
    ['bool', 0, false],
    ['list', ['a', 'b'], ['a', 'b']],
    ['list', 'a, b,,c', ['a', 'b', 'c']],
    ['list', [1, 'x'], ['1', 'x']],
    ['list', 3333, ['3333']],
    ['string', 'web-1', 'web-1'],
    ['string', 12, '12'],
    ['string', false, 'false'],
  ] as const)('%s accepts %j as %j', (type, value, expected) => {
    expect(coerceInput(type, value)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['int', '4.5', 'expected an integer, got "4.5"'],
    ['int', 4.5, 'expected an integer, got number 4.5'],
    ['int', 'abc', 'expected an integer, got "abc"'],
    ['int', '99999999999999999999', 'expected an integer, got "99999999999999999999"'],
    ['number', 'ten', 'expected a number, got "ten"'],
    ['number', Number.POSITIVE_INFINITY, 'expected a finite number, got number Infinity'],
    ['bool', 'maybe', 'expected true/false, yes/no or 1/0, got "maybe"'],
    ['bool', 2, 'expected true/false, yes/no or 1/0, got number 2'],
    ['list', { a: 1 }, 'expected a list of strings (or one string of items separated by commas), got an object'],
    ['list', [{}], 'expected a list of strings (or one string of items separated by commas), got a list'],
    ['string', ['a'], 'expected a string, got a list'],
    ['string', null, 'expected a string, got null'],
  ] as const)('%s rejects %j', (type, value, error) => {
    expect(coerceInput(type, value)).toEqual({ ok: false, error });
  });
});

describe('resolveTrigger', () => {
  const spec = specWith({
    host: { type: 'string', required: true },
    pid: { type: 'int' },
    depth: { type: 'int', default: 3 },
    deep: { type: 'bool', default: false },
    ports: { type: 'list', default: ['22'] },
  });

  it('fills defaults, coerces given values and keeps undeclared inputs as given', () => {
    const r = resolveTrigger(spec, { host: 'web-1', pid: '4242', deep: 'yes', ports: '80,443', ticket: { id: 7 } });
    expect(r).toEqual({ ok: true, trigger: { host: 'web-1', pid: 4242, depth: 3, deep: true, ports: ['80', '443'], ticket: { id: 7 } } });
  });

  it('leaves out a declared input with no default that is not given', () => {
    const r = resolveTrigger(spec, { host: 'web-1' });
    expect(r).toEqual({ ok: true, trigger: { host: 'web-1', depth: 3, deep: false, ports: ['22'] } });
    expect(r.ok && 'pid' in r.trigger).toBe(false);
  });

  it('treats an empty value for a typed input as not given', () => {
    expect(resolveTrigger(spec, { host: 'web-1', depth: '' })).toEqual({ ok: true, trigger: { host: 'web-1', depth: 3, deep: false, ports: ['22'] } });
  });

  it('names every missing required input', () => {
    const two = specWith({ host: { type: 'string', required: true }, pid: { type: 'int', required: true }, note: { type: 'string' } });
    expect(resolveTrigger(two, { note: 'x' })).toEqual({ ok: false, error: 'missing required inputs host, pid (give --input host=… --input pid=…)' });
    expect(resolveTrigger(two, { host: 'h', pid: null })).toEqual({ ok: false, error: 'missing required input pid (give --input pid=…)' });
  });

  it('names the input whose value does not fit its type', () => {
    expect(resolveTrigger(spec, { host: 'web-1', pid: 'twelve' })).toEqual({ ok: false, error: 'input pid: expected an integer, got "twelve"' });
  });

  it('limits the number and size of given inputs', () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    expect(resolveTrigger(spec, many)).toEqual({ ok: false, error: '65 inputs given; at most 64 are allowed' });
    const big = resolveTrigger(spec, { host: 'x'.repeat(20_000) });
    expect(big.ok).toBe(false);
    expect(!big.ok && big.error).toMatch(/^input host: value is 20002 bytes; at most 16384 are allowed$/);
  });

  it('does not change the spec it resolves against', () => {
    const r = resolveTrigger(spec, { host: 'web-1', ports: 'a' });
    expect(r.ok && r.trigger.ports).toEqual(['a']);
    expect(spec.inputs.ports?.default).toEqual(['22']);
  });
});
