import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../daimon/policy/load-policy.js';
import { formatSpecError } from '../../../src/specs/spec-error.js';
import { findSuppression, parseExpiry, suppresses } from '../../../src/specs/suppress.js';
import type { SuppressEntry } from '../../../src/specs/suppress.js';

const NOW = Date.UTC(2026, 11, 5);

function entries(yaml: string): SuppressEntry[] {
  const r = parsePolicy(yaml, 'policy.yaml', NOW);
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  return r.policy.suppress ?? [];
}

function errors(yaml: string): string[] {
  const r = parsePolicy(yaml, 'policy.yaml', NOW);
  if (r.ok) throw new Error('expected the policy to be refused');
  return r.errors.map(formatSpecError);
}

const GOOD = [
  'deny:',
  '  agents: [sre-health]',
  'suppress:',
  '  - agent: edr',
  '    rule: memfd-executable',
  '    match:',
  "      resource: 'binary:/memfd:runc*'",
  '    reason: runc starts containers from memfd',
  '    expires: 2027-03-01',
  '  - agent: instance-*',
  '    match: { title: /authorized key/, evidence: "*ops@bastion*" }',
  '    reason: the ops key is rolled out by config management',
  '    expires: 2026-12-31T12:00:00Z',
].join('\n');

describe('suppress: in the host policy', () => {
  it('reads entries with where they are written, their reason and their expiry', () => {
    const [a, b] = entries(GOOD);
    expect(a).toEqual({
      index: 0, at: 'policy.yaml:4', agent: 'edr', rule: 'memfd-executable', match: { resource: 'binary:/memfd:runc*' },
      reason: 'runc starts containers from memfd', expires: Date.UTC(2027, 2, 1), expiresText: '2027-03-01',
    });
    expect(b).toMatchObject({ index: 1, at: 'policy.yaml:10', agent: 'instance-*', match: { title: '/authorized key/', evidence: '*ops@bastion*' }, expires: Date.UTC(2026, 11, 31, 12) });
    expect(b?.rule).toBeUndefined();
  });

  it('has no suppress list when the file has none', () => {
    const r = parsePolicy('deny: { agents: [x] }', 'policy.yaml', NOW);
    expect(r.ok && r.policy.suppress).toBeUndefined();
  });

  it.each([
    ['no reason', 'suppress:\n  - agent: edr\n    rule: x\n    expires: 2027-01-01', 'policy.yaml:2:5: suppress.0.reason: is required: say why these findings are expected on this host'],
    ['an empty reason', 'suppress:\n  - agent: edr\n    rule: x\n    reason: "  "\n    expires: 2027-01-01', 'policy.yaml:4:13: suppress.0.reason: must say why'],
    ['no expiry', 'suppress:\n  - agent: edr\n    rule: x\n    reason: ok', 'policy.yaml:2:5: suppress.0.expires: is required: a date (YYYY-MM-DD)'],
    ['a date that is not one', 'suppress:\n  - agent: edr\n    rule: x\n    reason: ok\n    expires: 2027-02-30', 'policy.yaml:5:14: suppress.0.expires: expected a date YYYY-MM-DD'],
    ['a time without its zone', 'suppress:\n  - agent: edr\n    rule: x\n    reason: ok\n    expires: 2027-02-03T10:00', 'policy.yaml:5:14: suppress.0.expires: expected a date'],
    ['an expiry over a year ahead', 'suppress:\n  - agent: edr\n    rule: x\n    reason: ok\n    expires: 2028-01-01', 'policy.yaml:5:14: suppress.0.expires: 2028-01-01 is more than a year ahead'],
    ['neither rule nor match', 'suppress:\n  - agent: edr\n    reason: ok\n    expires: 2027-01-01', 'suppress.0.match: name a rule or a match'],
    ['an empty match', 'suppress:\n  - agent: edr\n    match: {}\n    reason: ok\n    expires: 2027-01-01', 'policy.yaml:3:12: suppress.0.match: name a rule or a match'],
    ['an unknown match key', 'suppress:\n  - agent: edr\n    match: { resorce: x }\n    reason: ok\n    expires: 2027-01-01', 'policy.yaml:3:14: suppress.0.match.resorce: unknown field; did you mean resource?'],
    ['an unknown entry key', 'suppress:\n  - agent: edr\n    rule: x\n    reason: ok\n    expire: 2027-01-01', 'suppress.0.expire: unknown field; did you mean expires?'],
    ['a regex that does not compile', 'suppress:\n  - agent: edr\n    match: { title: "/(/" }\n    reason: ok\n    expires: 2027-01-01', 'policy.yaml:3:21: suppress.0.match.title: invalid regular expression'],
    ['no agent', 'suppress:\n  - rule: x\n    reason: ok\n    expires: 2027-01-01', 'suppress.0.agent: is required'],
  ])('refuses %s, naming file:line and field', (_name, yaml, message) => {
    expect(errors(yaml).join('\n')).toContain(message);
  });

  it('loads an entry that has already expired, which then suppresses nothing', () => {
    const [old] = entries('suppress:\n  - agent: edr\n    rule: memfd-executable\n    reason: ok\n    expires: 2026-01-01');
    expect(old).toBeDefined();
    const finding = { title: 'x', attributes: { rule: 'memfd-executable' } };
    expect(suppresses(old as SuppressEntry, 'edr', finding)).toBe(true);
    expect(findSuppression([old as SuppressEntry], 'edr', finding, NOW)).toBeUndefined();
  });
});

describe('suppresses', () => {
  const [memfd, keys] = entries(GOOD) as [SuppressEntry, SuppressEntry];
  const runc = { title: 'Process runs from an in-memory file', resource: 'binary:/memfd:runc (deleted), pid:4242', attributes: { rule: 'memfd-executable' } };

  it.each([
    ['the rule and resource it names', memfd, 'edr', runc, true],
    ['the resource as written (the pid is volatile: the root leaves it out)', memfd, 'edr', { ...runc, resource: 'pid:1, binary:/memfd:runc-init' }, true],
    ['another agent', memfd, 'instance-threat', runc, false],
    ['another rule', memfd, 'edr', { ...runc, attributes: { rule: 'deleted-executable' } }, false],
    ['a model finding (no rule) when a rule is named', memfd, 'edr', { ...runc, attributes: {} }, false],
    ['another memfd name', memfd, 'edr', { ...runc, resource: 'binary:/memfd:payload (deleted), pid:4242' }, false],
    ['an agent glob, a title regex and an evidence glob', keys, 'instance-threat', { title: 'New authorized key', evidence: ['ssh-ed25519 AAAA ops@bastion'] }, true],
    ['the same without the evidence', keys, 'instance-threat', { title: 'New authorized key', evidence: ['ssh-ed25519 AAAA eve@evil'] }, false],
  ])('%s', (_name, entry, agent, finding, expected) => {
    expect(suppresses(entry, agent, finding)).toBe(expected);
  });
});

describe('parseExpiry', () => {
  it.each([
    ['2027-03-01', Date.UTC(2027, 2, 1)],
    ['2027-03-01T10:00:00Z', Date.UTC(2027, 2, 1, 10)],
    ['2027-03-01T10:00+02:00', Date.UTC(2027, 2, 1, 8)],
    ['2027-02-29', undefined],
    ['next week', undefined],
    [20270301, undefined],
  ])('%s', (text, ms) => expect(parseExpiry(text)).toBe(ms));
});
