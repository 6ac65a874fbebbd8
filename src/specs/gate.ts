import { posix } from 'node:path';
import type { AgentSpec, RbacRule } from './agent-spec.js';
import { isRegexPattern, matchPattern, patternError } from './glob-match.js';
import type { PatternKind } from './glob-match.js';
import type { HostPolicy, PolicyPattern } from './policy-spec.js';

/** Why a tool call, command or agent is refused, and whose rule refused it. */
export type Denial = { by: 'agent' | 'rbac' | 'policy'; reason: string };

/** The tools whose subject is a file path (checked against `deny.paths` and matched as paths). */
export const PATH_TOOLS: ReadonlySet<string> = new Set(['read_file', 'list_files', 'search']);

/** How a tool's subject is matched: bash commands as commands, path tools' paths as paths, anything else as a command. */
export function subjectKind(tool: string): PatternKind {
  return PATH_TOOLS.has(tool) ? 'path' : 'command';
}

/** `path` without `.`/`..` segments, doubled or trailing slashes (`/a/b/../c/` → `/a/c`). */
export function normalizePath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

/** Tools to offer the model: the agent's tools that this build implements, minus those the host policy denies. */
export function offeredTools(agent: AgentSpec, policy: HostPolicy, implemented: readonly string[]): string[] {
  return agent.tools.filter((tool) => implemented.includes(tool) && !policyHit(policy.deny.tools, tool, 'name'));
}

/** Whether the agent may call `tool` at all, before looking at its input: the agent lists it and the policy does not deny it. */
export function checkTool(agent: AgentSpec, policy: HostPolicy, tool: string): Denial | undefined {
  if (!agent.tools.includes(tool)) return { by: 'agent', reason: `${tool} is not among this agent's tools` };
  const hit = policyHit(policy.deny.tools, tool, 'name');
  if (hit) return { by: 'policy', reason: `the host policy denies the tool ${tool}${describe(hit)}` };
  return undefined;
}

/**
 * Decides one tool call. `subject` is the bash command, or the absolute path for a path tool (callers check the
 * resolved path and its realpath separately). Order: the agent's tools, the host policy (tools, commands, paths),
 * the agent's rbac.deny, then its rbac.allow (when it has rules for this tool, one must match). Deny wins.
 */
export function checkToolCall(agent: AgentSpec, policy: HostPolicy, tool: string, subject: string | undefined): Denial | undefined {
  const toolDenial = checkTool(agent, policy, tool);
  if (toolDenial) return toolDenial;
  const kind = subjectKind(tool);
  let target = subject;
  if (kind === 'path' && target !== undefined) {
    if (!posix.isAbsolute(target)) return { by: 'policy', reason: `the path ${JSON.stringify(target)} is not absolute` };
    target = normalizePath(target);
  }
  if (tool === 'bash' && target !== undefined) {
    const denial = checkCommand(policy, target);
    if (denial) return denial;
  }
  if (kind === 'path' && target !== undefined) {
    const hit = policyHit(policy.deny.paths, target, 'path');
    if (hit) return { by: 'policy', reason: `the host policy denies the path ${target}${describe(hit)}` };
  }
  const rules = (list: RbacRule[]): RbacRule[] => list.filter((rule) => matchPattern(rule.tool, tool, 'name'));
  for (const rule of rules(agent.rbac.deny)) {
    if (rule.pattern === undefined || (target !== undefined && hits(rule.pattern, target, kind))) {
      const scope = rule.pattern === undefined ? `every ${tool} call` : `${tool} calls matching "${rule.pattern}"`;
      return { by: 'rbac', reason: `rbac.deny forbids ${scope}${rule.reason ? `: ${rule.reason}` : ''}` };
    }
  }
  const allow = rules(agent.rbac.allow);
  if (allow.length > 0) {
    const allowed = allow.some((rule) => rule.pattern === undefined || (target !== undefined && matches(rule.pattern, target, kind)));
    if (!allowed) {
      const listed = allow.map((rule) => `"${rule.pattern ?? ''}"`).slice(0, 8).join(', ');
      return { by: 'rbac', reason: `this ${tool} call is not allowed by rbac.allow (allowed: ${listed}${allow.length > 8 ? ', …' : ''})` };
    }
  }
  return undefined;
}

/** Whether the host policy lets this command run (collectors, custom provider commands, bash calls). */
export function checkCommand(policy: HostPolicy, command: string): Denial | undefined {
  const trimmed = command.trim();
  const hit = policy.deny.commands.find((p) => hits(p.pattern, command, 'command') || hits(p.pattern, trimmed, 'command'));
  return hit ? { by: 'policy', reason: `the host policy denies this command${describe(hit)}` } : undefined;
}

/** Whether the host policy lets the agent `name` run here (dispatched or ticked). */
export function checkAgent(policy: HostPolicy, name: string): Denial | undefined {
  const hit = policyHit(policy.deny.agents, name, 'name');
  return hit ? { by: 'policy', reason: `the host policy denies the agent ${name}${describe(hit)}` } : undefined;
}

function policyHit(patterns: PolicyPattern[], subject: string, kind: PatternKind): PolicyPattern | undefined {
  return patterns.find((p) => hits(p.pattern, subject, kind));
}

/** ` (pattern "x"): reason` for a denial message. */
function describe(p: PolicyPattern): string {
  return ` (pattern "${p.pattern}")${p.reason ? `: ${p.reason}` : ''}`;
}

/** A deny check: like `matches`, but a regex that does not compile counts as a match, so a broken rule fails closed. */
function hits(pattern: string, subject: string, kind: PatternKind): boolean {
  if (isRegexPattern(pattern, kind) && patternError(pattern, kind) !== undefined) return true;
  return matches(pattern, subject, kind);
}

/** A path pattern also covers everything below what it matches: `/root` and `/root/**` both cover `/root` and `/root/x/y`. */
function matches(pattern: string, subject: string, kind: PatternKind): boolean {
  if (kind !== 'path') return matchPattern(pattern, subject, kind);
  const p = pattern.length > 1 ? pattern.replace(/\/+$/, '') : pattern;
  if (matchPattern(p, subject, 'path')) return true;
  if (p.endsWith('/**')) return matchPattern(p.slice(0, -3) || '/', subject, 'path');
  return matchPattern(`${p === '/' ? '' : p}/**`, subject, 'path');
}
