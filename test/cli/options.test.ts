import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { categoryArg, collectInput, durationArg, filterFrom, matchesFilter, parseInput, positiveIntArg, severityArg } from '../../src/cli/options.js';
import { finding } from './helpers.js';

describe('durationArg', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
  ])('parses %s', (text, ms) => expect(durationArg(text)).toBe(ms));

  it.each(['', 'soon', '5', '5x', '-1h', '1h-', '0s'])('rejects %j as a usage error', (text) => {
    expect(() => durationArg(text)).toThrow(InvalidArgumentError);
  });
});

describe('parseInput', () => {
  it.each([
    ['n=5', ['n', 5]],
    ['b=true', ['b', true]],
    ['z=null', ['z', null]],
    ['s=hello', ['s', 'hello']],
    ['q="quoted"', ['q', 'quoted']],
    ['j={"a":1}', ['j', { a: 1 }]],
    ['list=[1,2]', ['list', [1, 2]]],
    ['e=', ['e', '']],
    ['url=https://x/?a=b', ['url', 'https://x/?a=b']],
    ['v=1.2.3', ['v', '1.2.3']],
  ])('parses %s', (text, expected) => expect(parseInput(text)).toEqual(expected));

  it.each(['novalue', '=x'])('rejects %j', (text) => expect(() => parseInput(text)).toThrow(InvalidArgumentError));

  it('collects repeated inputs, the last one winning', () => {
    let acc = collectInput('a=1', undefined);
    acc = collectInput('b=two', acc);
    acc = collectInput('a=3', acc);
    expect(acc).toEqual({ a: 3, b: 'two' });
  });
});

describe('severity, category and int flags', () => {
  it('accepts any case and normalises', () => {
    expect(severityArg('high')).toBe('HIGH');
    expect(severityArg(' Critical ')).toBe('CRITICAL');
    expect(categoryArg('NETWORK')).toBe('network');
  });
  it('rejects unknown values', () => {
    expect(() => severityArg('urgent')).toThrow(/critical, high, medium, low, info/);
    expect(() => categoryArg('disk')).toThrow(/process/);
  });
  it.each(['0', '-1', '1.5', 'ten', ''])('rejects %j as a positive integer', (text) => {
    expect(() => positiveIntArg(text)).toThrow(InvalidArgumentError);
  });
  it('parses positive integers', () => expect(positiveIntArg('25')).toBe(25));
});

describe('finding filters', () => {
  it('leaves out unset fields', () => {
    expect(filterFrom({ severity: 'HIGH', host: '' })).toEqual({ severity: 'HIGH' });
  });
  it.each([
    [{}, true],
    [{ severity: 'HIGH' as const }, true],
    [{ severity: 'MEDIUM' as const }, true],
    [{ severity: 'CRITICAL' as const }, false],
    [{ host: 'web-01' }, true],
    [{ host: 'web-02' }, false],
    [{ agent: 'edr' }, true],
    [{ agent: 'disk' }, false],
    [{ category: 'process' as const }, true],
    [{ category: 'network' as const }, false],
  ])('matches %j → %s (a HIGH process finding from web-01/edr)', (filter, expected) => {
    expect(matchesFilter(finding(), filter)).toBe(expected);
  });
});
