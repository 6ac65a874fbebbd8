import type { ErrorCode } from '../src/errors.js';
import type { DispatchEnvelope } from '../src/protocol/dispatch.js';
import type { AgentSpec } from '../src/specs/agent-spec.js';
import { checkAgent } from '../src/specs/gate.js';
import { formatSpecError, parseAgent } from '../src/specs/parse-agent.js';
import type { HostPolicy } from '../src/specs/policy-spec.js';
import { splitSignatures, verifyDefinition } from '../src/pki/agent-signature.js';

/** The `source` of an agent whose definition came with a dispatch from the CP (every other source is a file on this host). */
export function cpDefinitionSource(agent: string): string {
  return `<dispatch:${agent}>`;
}

/** True when the agent's definition was sent by the CP rather than read from this host's disk. */
export function isCpDefinition(agent: Pick<AgentSpec, 'name' | 'source'>): boolean {
  return agent.source === cpDefinitionSource(agent.name);
}

/** The agent a dispatch runs, or why it is refused. */
export type ResolvedDispatch = { ok: true; agent: AgentSpec; signedBy?: string } | { ok: false; code: ErrorCode; message: string };

/**
 * Decides what a dispatch runs on this host: the host's own agent of that name wins over the CP's definition; a
 * definition from the CP is used only when the host policy accepts CP definitions (with `signed`, only when a
 * trusted key signed exactly this text) and, under `cp_commands: false`, runs no command; the host policy can refuse
 * the agent whatever its source (SPEC §4.3, §11: the host owner's word beats the CP's).
 */
export function resolveDispatch(env: DispatchEnvelope, local: ReadonlyMap<string, AgentSpec>, policy: HostPolicy, host: string): ResolvedDispatch {
  const denied = checkAgent(policy, env.agent);
  if (denied) return { ok: false, code: 'OKS_ERR_POLICY_DENIED', message: `agent ${env.agent} is denied by ${policy.source}: ${denied.reason}` };
  const own = local.get(env.agent);
  if (own) return { ok: true, agent: own };
  if (env.definition === undefined) {
    return { ok: false, code: 'OKS_ERR_AGENT_UNKNOWN', message: `no agent named ${env.agent} on ${host}, and the dispatch carried no definition` };
  }
  if (policy.cpDefinitions === false) {
    return { ok: false, code: 'OKS_ERR_POLICY_DENIED', message: `${policy.source} accepts no agent definitions from the CP, and ${host} has no agent named ${env.agent}` };
  }
  let text = splitSignatures(env.definition).body;
  let signedBy: string | undefined;
  if (policy.cpDefinitions === 'signed') {
    const verified = verifyDefinition(env.definition, policy.trustedAgentKeys ?? []);
    if (!verified.ok) {
      return { ok: false, code: 'OKS_ERR_SIGNATURE_INVALID', message: `${policy.source} accepts only agent definitions signed by a key it trusts, and this one of ${env.agent} is refused: ${verified.message}` };
    }
    text = verified.body;
    signedBy = verified.key.name ?? verified.key.key;
  }
  const parsed = parseAgent(text, cpDefinitionSource(env.agent));
  if (!parsed.ok) return { ok: false, code: 'OKS_ERR_AGENT_INVALID', message: parsed.errors.map(formatSpecError).join('; ') };
  if (parsed.agent.name !== env.agent) {
    return { ok: false, code: 'OKS_ERR_AGENT_INVALID', message: `the definition is agent ${parsed.agent.name}, the dispatch asked for ${env.agent}` };
  }
  const commands = policy.cpCommands === false ? commandsOf(parsed.agent) : [];
  if (commands.length > 0) {
    return { ok: false, code: 'OKS_ERR_POLICY_DENIED', message: `${policy.source} lets agent definitions from the CP run no commands (cp_commands: false), and ${env.agent} has ${commands.join(', ')}` };
  }
  return { ok: true, agent: parsed.agent, ...(signedBy !== undefined && { signedBy }) };
}

/** What in an agent runs commands: its collectors, the bash tool, a custom command. */
function commandsOf(agent: AgentSpec): string[] {
  return [
    ...(agent.collectors.length > 0 ? [`${agent.collectors.length} collector(s)`] : []),
    ...(agent.tools.includes('bash') ? ['the bash tool'] : []),
    ...(agent.provider === 'custom' && agent.command !== undefined ? ['a custom command'] : []),
  ];
}
