import type { ErrorCode } from '../src/errors.js';
import type { DispatchEnvelope } from '../src/protocol/dispatch.js';
import type { AgentSpec } from '../src/specs/agent-spec.js';
import { checkAgent } from '../src/specs/gate.js';
import { formatSpecError, parseAgent } from '../src/specs/parse-agent.js';
import type { HostPolicy } from '../src/specs/policy-spec.js';

/** The agent a dispatch runs, or why it is refused. */
export type ResolvedDispatch = { ok: true; agent: AgentSpec } | { ok: false; code: ErrorCode; message: string };

/**
 * Decides what a dispatch runs on this host: the host's own agent of that name wins over the CP's definition; a
 * definition from the CP is used only when the host policy accepts CP definitions; the host policy can refuse the
 * agent whatever its source (SPEC §4.3: the host owner's word beats the CP's).
 */
export function resolveDispatch(env: DispatchEnvelope, local: ReadonlyMap<string, AgentSpec>, policy: HostPolicy, host: string): ResolvedDispatch {
  const denied = checkAgent(policy, env.agent);
  if (denied) return { ok: false, code: 'OKS_ERR_POLICY_DENIED', message: `agent ${env.agent} is denied by ${policy.source}: ${denied.reason}` };
  const own = local.get(env.agent);
  if (own) return { ok: true, agent: own };
  if (env.definition === undefined) {
    return { ok: false, code: 'OKS_ERR_AGENT_UNKNOWN', message: `no agent named ${env.agent} on ${host}, and the dispatch carried no definition` };
  }
  if (!policy.cpDefinitions) {
    return { ok: false, code: 'OKS_ERR_POLICY_DENIED', message: `${policy.source} accepts no agent definitions from the CP, and ${host} has no agent named ${env.agent}` };
  }
  const parsed = parseAgent(env.definition, `<dispatch:${env.agent}>`);
  if (!parsed.ok) return { ok: false, code: 'OKS_ERR_AGENT_INVALID', message: parsed.errors.map(formatSpecError).join('; ') };
  if (parsed.agent.name !== env.agent) {
    return { ok: false, code: 'OKS_ERR_AGENT_INVALID', message: `the definition is agent ${parsed.agent.name}, the dispatch asked for ${env.agent}` };
  }
  return { ok: true, agent: parsed.agent };
}
