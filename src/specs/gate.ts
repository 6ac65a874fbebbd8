import { posix } from 'node:path';
import type { AgentSpec, RbacRule } from './agent-spec.js';
import { isRegexPattern, matchPattern, patternError } from './glob-match.js';
import type { PatternKind } from './glob-match.js';
import type { HostPolicy, PolicyPattern } from './policy-spec.js';
import { plainCommand } from './plain-command.js';

/**
 * How the host finds executables, for `allow_executables` and for matching deny patterns against the executable a
 * command really starts. Lives outside this pure module (daimon/policy/resolve-executable.ts): it reads the disk.
 */
export interface ExecutableResolver {
  /** Where the shell (or execvp) finds `word` with the PATH children get, and that file's realpath; undefined when nothing executable is there. */
  find(word: string): { path: string; real: string } | undefined;
  /** The realpath of `path`, undefined when it does not exist. */
  real(path: string): string | undefined;
}

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
export function checkToolCall(agent: AgentSpec, policy: HostPolicy, tool: string, subject: string | undefined, resolver?: ExecutableResolver): Denial | undefined {
  const toolDenial = checkTool(agent, policy, tool);
  if (toolDenial) return toolDenial;
  const kind = subjectKind(tool);
  let target = subject;
  if (kind === 'path' && target !== undefined) {
    if (!posix.isAbsolute(target)) return { by: 'policy', reason: `the path ${JSON.stringify(target)} is not absolute` };
    target = normalizePath(target);
  }
  if (tool === 'bash' && target !== undefined) {
    const denial = checkCommand(policy, target, resolver);
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

/**
 * Whether the host policy lets this shell command run (collectors, custom provider commands, bash calls). The deny
 * patterns are matched against the text and, for a plain command, also against the text with its first word replaced
 * by the executable's path, realpath and base name (so `/usr/bin/curl x` meets a `curl *` rule). They remain a
 * tripwire: quoting, variables or a launcher (`env curl`) still get past them. `allow_executables`, when set, is the
 * boundary: only plain commands (no shell syntax at all) whose executable is listed run. Without a resolver the
 * allowlist refuses everything (fail closed).
 */
export function checkCommand(policy: HostPolicy, command: string, resolver?: ExecutableResolver): Denial | undefined {
  if (policy.deny.commands.length === 0 && policy.allowExecutables === undefined) return undefined;
  const trimmed = command.trim();
  const plain = plainCommand(trimmed);
  const found = plain.ok ? resolver?.find(plain.words[0] as string) : undefined;
  const args = plain.ok ? plain.words.slice(1) : [];
  const texts = [command, trimmed, ...(found ? executableForms(found).map((exe) => [exe, ...args].join(' ')) : [])];
  const hit = policy.deny.commands.find((p) => texts.some((text) => hits(p.pattern, text, 'command')));
  if (hit) return { by: 'policy', reason: `the host policy denies this command${describe(hit)}` };
  if (policy.allowExecutables === undefined) return undefined;
  if (!plain.ok) return { by: 'policy', reason: `the host policy runs only plain commands (allow_executables), and this one is not: ${plain.reason}` };
  return allowExecutable(policy.allowExecutables, plain.words[0] as string, found, resolver);
}

/** Whether the host policy lets a custom provider's argv run: argv[0] is judged like a command's first word, the arguments go to it as they are. */
export function checkArgv(policy: HostPolicy, argv: readonly string[], resolver?: ExecutableResolver): Denial | undefined {
  if (policy.deny.commands.length === 0 && policy.allowExecutables === undefined) return undefined;
  const [file = '', ...args] = argv;
  const found = resolver?.find(file);
  const texts = [argv.join(' '), ...(found ? executableForms(found).map((exe) => [exe, ...args].join(' ')) : [])];
  const hit = policy.deny.commands.find((p) => texts.some((text) => hits(p.pattern, text, 'command')));
  if (hit) return { by: 'policy', reason: `the host policy denies this command${describe(hit)}` };
  if (policy.allowExecutables === undefined) return undefined;
  return allowExecutable(policy.allowExecutables, file, found, resolver);
}

/** The names a found executable goes by: as found, its realpath, its base name. */
function executableForms(found: { path: string; real: string }): string[] {
  return [...new Set([found.path, found.real, posix.basename(found.path)])];
}

/**
 * Allowed when an allowlist entry is the same file (same realpath) under the same base name. The name matters for
 * multi-call binaries: on busybox systems /bin/ps and /bin/wget are one file, and it runs the applet named by argv[0].
 */
function allowExecutable(allowed: readonly string[], word: string, found: { path: string; real: string } | undefined, resolver: ExecutableResolver | undefined): Denial | undefined {
  if (!resolver) return { by: 'policy', reason: 'the host policy has allow_executables, and this command cannot be checked against it here' };
  if (!found) return { by: 'policy', reason: `${word} is not an executable found on this host's PATH, so it is not among allow_executables` };
  const name = posix.basename(found.path);
  if (allowed.some((entry) => posix.basename(entry) === name && resolver.real(entry) === found.real)) return undefined;
  const shown = found.real === found.path ? found.path : `${found.path} (${found.real})`;
  return { by: 'policy', reason: `${word} runs ${shown}, which is not among the host policy's allow_executables` };
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
