import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateAgentKey, signDefinition } from '../../src/pki/agent-signature.js';
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

describe('resolveDispatch under cp_definitions: signed and cp_commands: false', () => {
  const key = generateAgentKey();
  const other = generateAgentKey();
  const signed = (text: string, pem = key.privateKeyPem) => signDefinition(text, createPrivateKey(pem)).text;
  const signedOnly = policy({ cpDefinitions: 'signed', trustedAgentKeys: [{ key: key.publicKey, name: 'release' }] });

  it('runs a definition signed by a trusted key, parsed without its signature line', () => {
    const r = resolveDispatch(envelope('other', signed(definition('other'))), local, signedOnly, 'web-1');
    expect(r).toMatchObject({ ok: true, signedBy: 'release', agent: { name: 'other', body: 'from the CP' } });
  });

  it.each<[string, string]>([
    ['unsigned', definition('other')],
    ['signed by a key not trusted', signed(definition('other'), other.privateKeyPem)],
    ['changed after signing', signed(definition('other')).replace('from the CP', 'from the CQ')],
  ])('refuses a definition %s with OKS_ERR_SIGNATURE_INVALID', (_what, text) => {
    const r = resolveDispatch(envelope('other', text), local, signedOnly, 'web-1');
    expect(r).toMatchObject({ ok: false, code: 'OKS_ERR_SIGNATURE_INVALID' });
    expect(r.ok ? '' : r.message).toMatch(/accepts only agent definitions signed by a key it trusts/);
  });

  it('still runs the host’s own agent, signed or not', () => {
    expect(resolveDispatch(envelope('probe'), local, signedOnly, 'web-1')).toMatchObject({ ok: true });
  });

  it('refuses a CP definition that runs commands under cp_commands: false, and accepts one that runs none', () => {
    const noCommands = policy({ cpCommands: false });
    const r = resolveDispatch(envelope('other', definition('other')), local, noCommands, 'web-1');
    expect(r).toMatchObject({ ok: false, code: 'OKS_ERR_POLICY_DENIED' });
    expect(r.ok ? '' : r.message).toMatch(/cp_commands: false.*a custom command/);
    const modelOnly = '---\nname: other\nmodel: claude-sonnet-4-5\ntools: [read_file]\n---\nread\n';
    expect(resolveDispatch(envelope('other', modelOnly), local, noCommands, 'web-1')).toMatchObject({ ok: true });
  });
});
