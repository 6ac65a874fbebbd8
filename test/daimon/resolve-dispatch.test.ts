import { describe, expect, it } from 'vitest';
import { resolveDispatch } from '../../daimon/resolve-dispatch.js';
import { dispatchEnvelopeSchema } from '../../src/protocol/dispatch.js';
import type { AgentSpec } from '../../src/specs/agent-spec.js';
import { EMPTY_POLICY } from '../../src/specs/policy-spec.js';
import type { HostPolicy } from '../../src/specs/policy-spec.js';
import { customAgent } from './run-helpers.js';

const RUN_ID = 'r_01JD0000000000000000000000';
const definition = (name: string) => `---\nname: ${name}\ncommand: ['true']\n---\nfrom the CP\n`;
const envelope = (agent: string, def?: string) => dispatchEnvelopeSchema.parse({ run_id: RUN_ID, agent, ...(def !== undefined && { definition: def }) });
const local = new Map<string, AgentSpec>([['probe', { ...customAgent(['true']), source: '/etc/okesu/agents/probe.md' }]]);
const policy = (over: Partial<HostPolicy>): HostPolicy => ({ ...EMPTY_POLICY, source: '/etc/okesu/policy.yaml', ...over });

describe('resolveDispatch', () => {
  it('prefers the host’s own agent over the CP’s definition', () => {
    const r = resolveDispatch(envelope('probe', definition('probe')), local, EMPTY_POLICY, 'web-1');
    expect(r).toMatchObject({ ok: true, agent: { source: '/etc/okesu/agents/probe.md' } });
  });

  it('uses the CP’s definition for an agent the host does not have', () => {
    expect(resolveDispatch(envelope('other', definition('other')), local, EMPTY_POLICY, 'web-1')).toMatchObject({ ok: true, agent: { name: 'other', source: '<dispatch:other>' } });
  });

  it.each<[string, ReturnType<typeof envelope>, HostPolicy, string, RegExp]>([
    ['an unknown agent without definition', envelope('nope'), EMPTY_POLICY, 'OKS_ERR_AGENT_UNKNOWN', /no agent named nope on web-1/],
    ['a definition of another name', envelope('other', definition('third')), EMPTY_POLICY, 'OKS_ERR_AGENT_INVALID', /definition is agent third/],
    ['an invalid definition', envelope('other', '---\nname: other\n---\n'), EMPTY_POLICY, 'OKS_ERR_AGENT_INVALID', /provider: is required/],
    ['an agent the policy denies, even the host’s own', envelope('probe'), policy({ deny: { ...EMPTY_POLICY.deny, agents: [{ pattern: 'pro*', reason: 'no probes' }] } }), 'OKS_ERR_POLICY_DENIED', /denied by \/etc\/okesu\/policy.yaml: .*no probes/],
    ['a CP definition on a host that accepts none', envelope('other', definition('other')), policy({ cpDefinitions: false }), 'OKS_ERR_POLICY_DENIED', /accepts no agent definitions from the CP/],
  ])('refuses %s', (_label, env, p, code, message) => {
    const r = resolveDispatch(env, local, p, 'web-1');
    expect(r).toMatchObject({ ok: false, code });
    expect(r.ok ? '' : r.message).toMatch(message);
  });
});
