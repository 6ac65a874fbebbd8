import { describe, expect, it } from 'vitest';
import { selectTickedAgents } from '../../daimon/ticks.js';
import type { AgentSpec } from '../../src/specs/agent-spec.js';
import { formatSpecError, parseAgent } from '../../src/specs/parse-agent.js';
import { EMPTY_POLICY } from '../../src/specs/policy-spec.js';

const agent = (name: string, schedule?: string): AgentSpec => {
  const r = parseAgent(`---\nname: ${name}\ncommand: ['true']\n${schedule ? `mode: daemon\n${schedule}\n` : ''}---\n`, `${name}.md`);
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  return r.agent;
};
const catalog = new Map([
  ['edr', agent('edr', 'interval: 5m')],
  ['sre-health', agent('sre-health', 'cron: "*/10 * * * *"')],
  ['edr-investigator', agent('edr-investigator')],
]);
const names = (r: ReturnType<typeof selectTickedAgents>) => (r.ok ? r.agents.map((a) => a.name) : r.error);

describe('selectTickedAgents (--enable)', () => {
  it('ticks nothing by default, so a fresh daimon is quiet', () => {
    expect(names(selectTickedAgents(catalog, [], EMPTY_POLICY))).toEqual([]);
  });
  it('ticks every mode: daemon agent with all', () => {
    expect(names(selectTickedAgents(catalog, ['all'], EMPTY_POLICY))).toEqual(['edr', 'sre-health']);
  });
  it('ticks the named ones once each', () => {
    expect(names(selectTickedAgents(catalog, ['sre-health', 'sre-health'], EMPTY_POLICY))).toEqual(['sre-health']);
  });
  it.each([
    [['edr', 'nope'], /--enable nope: no such agent \(have: edr, edr-investigator, sre-health\)/],
    [['edr-investigator'], /is mode: oneshot; only mode: daemon agents are ticked/],
  ])('refuses %j', (enable, message) => {
    expect(names(selectTickedAgents(catalog, enable, EMPTY_POLICY))).toMatch(message);
  });
  it('leaves out an agent the host policy denies, saying why', () => {
    const policy = { ...EMPTY_POLICY, deny: { ...EMPTY_POLICY.deny, agents: [{ pattern: 'edr', reason: 'not on this box' }] } };
    const r = selectTickedAgents(catalog, ['all'], policy);
    expect(names(r)).toEqual(['sre-health']);
    expect(r.ok && r.denied).toEqual([{ name: 'edr', reason: expect.stringMatching(/not on this box/) }]);
  });
});
