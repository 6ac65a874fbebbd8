import { describe, expect, it } from 'vitest';
import type { AgentSpec } from '../../src/specs/agent-spec.js';
import { formatSpecError, parseAgent } from '../../src/specs/parse-agent.js';
import { resolveInputs } from '../../src/specs/resolve-inputs.js';

function agentWithInputs(): AgentSpec {
  const text = [
    '---', 'name: probe', 'command: "true"', 'inputs:',
    '  pct: 90', '  enabled: true', '  paths: ["/etc"]', '  label: { default: "x", description: "a label" }',
    '---', 'body', '',
  ].join('\n');
  const r = parseAgent(text, '<test>');
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  return r.agent;
}

const agent = agentWithInputs();

describe('resolveInputs', () => {
  it('starts from the defaults', () => {
    expect(resolveInputs(agent, {})).toEqual({ ok: true, inputs: { pct: 90, enabled: true, paths: ['/etc'], label: 'x' } });
  });

  it.each([
    ['a number from a string', { pct: ' 85.5 ' }, 'pct', 85.5],
    ['a number as is', { pct: 70 }, 'pct', 70],
    ['a negative exponent number', { pct: '-1e2' }, 'pct', -100],
    ['yes', { enabled: 'yes' }, 'enabled', true],
    ['NO', { enabled: 'NO' }, 'enabled', false],
    ['1', { enabled: '1' }, 'enabled', true],
    ['0', { enabled: ' 0 ' }, 'enabled', false],
    ['false', { enabled: false }, 'enabled', false],
    ['a list from commas and newlines', { paths: ' /a, /b\n\n/c ,, ' }, 'paths', ['/a', '/b', '/c']],
    ['a list as is', { paths: ['/x'] }, 'paths', ['/x']],
    ['a number for a list: a list of one (--input ports=3333)', { paths: 3333 }, 'paths', ['3333']],
    ['a string from a number', { label: 42 }, 'label', '42'],
    ['a string from a boolean', { label: true }, 'label', 'true'],
    ['a list given for a string kept as a list', { label: ['a', 'b'] }, 'label', ['a', 'b']],
    ['an undeclared string kept as is', { extra: ' keep  me ' }, 'extra', ' keep  me '],
    ['an undeclared list kept as is', { hosts: ['a', 'b'] }, 'hosts', ['a', 'b']],
  ])('coerces %s', (_name, given, key, expected) => {
    const r = resolveInputs(agent, given);
    expect(r.ok && r.inputs[key]).toEqual(expected);
  });

  it.each([
    ['a non-number', { pct: 'ninety' }, 'input pct: expected a number, got "ninety"'],
    ['an empty number', { pct: '' }, 'input pct: expected a number'],
    ['hex is not a number', { pct: '0x10' }, 'input pct: expected a number'],
    ['infinity', { pct: Infinity }, 'input pct: expected a finite number'],
    ['a bad boolean', { enabled: 'maybe' }, 'input enabled: expected true/false, yes/no or 1/0, got "maybe"'],
    ['an object for a list', { paths: { a: 1 } }, 'input paths: expected a list of strings'],
    ['an object for a string', { label: { a: 1 } }, 'input label: expected a string (or a list of strings), got an object'],
    ['a mixed list for a string', { label: ['a', 1] }, 'input label: expected a string (or a list of strings), got a list'],
    ['an object undeclared', { extra: { a: 1 } }, 'input extra: expected a string, a number, true/false or a list of strings'],
    ['a bad undeclared name', { 'a=b': 'x' }, 'input a=b: not a valid input name'],
    ['a value over 16 KB', { extra: 'x'.repeat(17 * 1024) }, 'input extra: value is 17410 bytes; at most 16384 are allowed'],
  ])('rejects %s', (_name, given, message) => {
    const r = resolveInputs(agent, given as Record<string, unknown>);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });

  it('allows 64 given inputs but not 65', () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(resolveInputs(agent, many(64)).ok).toBe(true);
    const r = resolveInputs(agent, many(65));
    expect(r).toEqual({ ok: false, error: '65 inputs given; at most 64 are allowed' });
  });

  it('does not let a given key reach the prototype', () => {
    const given = JSON.parse('{"__proto__": "x", "constructor": "y"}') as Record<string, unknown>;
    const r = resolveInputs(agent, given);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(Object.getPrototypeOf(r.inputs)).toBe(Object.prototype);
      expect(Object.hasOwn(r.inputs, 'constructor')).toBe(true);
    }
  });
});
