import { describe, expect, it } from 'vitest';
import { matchesSelector, parseHostSelector } from '../../src/protocol/host-selector.js';

describe('parseHostSelector', () => {
  it.each([
    ['all', { kind: 'all' }],
    ['label:env=prod', { kind: 'labels', labels: { env: 'prod' } }],
    ['label:env=prod,role=web', { kind: 'labels', labels: { env: 'prod', role: 'web' } }],
    ['label:tier=', { kind: 'labels', labels: { tier: '' } }],
  ])('parses %s', (text, selector) => {
    expect(parseHostSelector(text)).toEqual({ ok: true, selector });
  });

  it.each([
    ['', /expected "all" or "label:k=v/],
    ['ALL', /expected "all"/],
    ['env=prod', /expected "all"/],
    ['label:', /"" is not k=v/],
    ['label:env', /"env" is not k=v/],
    ['label:=prod', /"=prod" is not k=v/],
    ['label:a=b=c', /"a=b=c" is not k=v/],
    ['label:env=prod,', /"" is not k=v/],
    ['label:env=a,env=b', /label env appears twice/],
    [`label:${'k'.repeat(64)}=v`, /key 1..63/],
    [`label:k=${'v'.repeat(3000)}`, /longer than 2048/],
  ])('refuses %j', (text, error) => {
    const parsed = parseHostSelector(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(error);
  });
});

describe('matchesSelector', () => {
  const sel = (text: string) => {
    const parsed = parseHostSelector(text);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.selector;
  };
  it.each([
    ['all', {}, true],
    ['label:env=prod', { env: 'prod', role: 'web' }, true],
    ['label:env=prod,role=web', { env: 'prod', role: 'web' }, true],
    ['label:env=prod,role=db', { env: 'prod', role: 'web' }, false],
    ['label:env=prod', { env: 'production' }, false],
    ['label:env=prod', {}, false],
    ['label:tier=', { tier: '' }, true],
    ['label:tier=', {}, false],
    ['label:constructor=x', {}, false],
  ])('%s on %j is %s', (text, labels, expected) => {
    expect(matchesSelector(sel(text), labels)).toBe(expected);
  });
});
