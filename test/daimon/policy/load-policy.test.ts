import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { POLICY_MAX_BYTES, loadHostPolicy, parsePolicy } from '../../../daimon/policy/load-policy.js';
import { checkToolCall } from '../../../src/specs/gate.js';
import { formatSpecError, parseAgent } from '../../../src/specs/parse-agent.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-policy-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a policy file with mode 0644 and returns its path. */
function policyFile(text: string, name = 'policy.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o644 });
  chmodSync(path, 0o644);
  return path;
}

async function errorsOf(path: string, opts: { required: boolean; uid?: number } = { required: true }): Promise<string[]> {
  const r = await loadHostPolicy(path, opts);
  if (r.ok) throw new Error('expected the policy to be refused');
  return r.errors.map(formatSpecError);
}

describe('loadHostPolicy', () => {
  it('reads a good file into a defaulted policy', async () => {
    const path = policyFile(
      [
        '# the owner of this host says:',
        'deny:',
        '  agents: [instance-threat]',
        '  tools:',
        '    - pattern: bash',
        '      reason: no shells on the database hosts',
        '  commands: ["*curl*", "/\\\\|\\\\s*sh\\\\b/"]',
        '  paths:',
        '    - /root/**',
        '    - "**/*.pem"',
        'cp_definitions: false',
        'pass_env: [HTTPS_PROXY, NO_PROXY]',
        '',
      ].join('\n'),
    );
    const r = await loadHostPolicy(path, { required: true });
    expect(r).toEqual({
      ok: true,
      policy: {
        source: path,
        cpDefinitions: false,
        trustedAgentKeys: [],
        cpCommands: true,
        passEnv: ['HTTPS_PROXY', 'NO_PROXY'],
        deny: {
          agents: [{ pattern: 'instance-threat' }],
          tools: [{ pattern: 'bash', reason: 'no shells on the database hosts' }],
          commands: [{ pattern: '*curl*' }, { pattern: '/\\|\\s*sh\\b/' }],
          paths: [{ pattern: '/root/**' }, { pattern: '**/*.pem' }],
        },
      },
    });
  });

  it('the policy it reads drives the gate', async () => {
    const r = await loadHostPolicy(policyFile('deny:\n  paths: [/etc/shadow]\n'), { required: true });
    if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
    const a = parseAgent('---\nname: probe\nmodel: claude-sonnet-4-5\ntools: [read_file]\n---\nbody\n', '<test>');
    if (!a.ok) throw new Error('bad agent');
    expect(checkToolCall(a.agent, r.policy, 'read_file', '/etc/shadow')?.by).toBe('policy');
    expect(checkToolCall(a.agent, r.policy, 'read_file', '/etc/hostname')).toBeUndefined();
  });

  it.each([
    ['an empty file', ''],
    ['a file of comments', '# nothing denied yet\n'],
  ])('%s is a valid empty policy', async (_name, text) => {
    const path = policyFile(text);
    expect(await loadHostPolicy(path, { required: true })).toEqual({
      ok: true,
      policy: { source: path, cpDefinitions: true, trustedAgentKeys: [], cpCommands: true, passEnv: [], deny: { agents: [], tools: [], commands: [], paths: [] } },
    });
  });

  it('a missing file that is not required is the empty policy', async () => {
    const r = await loadHostPolicy(join(dir, 'absent.yaml'), { required: false });
    expect(r).toEqual({ ok: true, policy: { source: '<none>', cpDefinitions: true, trustedAgentKeys: [], cpCommands: true, passEnv: [], deny: { agents: [], tools: [], commands: [], paths: [] } } });
  });

  it('a missing file that is required is an error', async () => {
    const path = join(dir, 'absent.yaml');
    expect(await errorsOf(path)).toEqual([`${path}:1:1: policy file not found`]);
  });

  it('names an unknown field with its line and column', async () => {
    const path = policyFile('deny:\n  tools: [bash]\n  command: ["rm *"]\ncp_definition: true\n');
    expect(await errorsOf(path)).toEqual([
      `${path}:3:3: deny.command: unknown field; did you mean commands?`,
      `${path}:4:1: cp_definition: unknown field; did you mean cp_definitions?`,
    ]);
  });

  it('names a pass_env entry that is no variable name', async () => {
    const path = policyFile('pass_env: [HTTPS_PROXY, "A=B"]\n');
    expect(await errorsOf(path)).toEqual([`${path}:1:25: pass_env.1: expected an environment variable name (letters, digits, _)`]);
  });

  it('names a bad value at its location', async () => {
    const path = policyFile('deny:\n  tools: bash\ncp_definitions: "yes"\n');
    const errors = await errorsOf(path);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(new RegExp(`^${path}:2:10: deny\\.tools: expected array`));
    expect(errors[1]).toMatch(new RegExp(`^${path}:3:17: cp_definitions: expected true, false or signed`));
  });

  it('reports a regex that does not compile, at the pattern', async () => {
    const path = policyFile('deny:\n  commands:\n    - "ok *"\n    - pattern: "/(unclosed/"\n      reason: typo\n  agents: ["/[/"]\n');
    expect(await errorsOf(path)).toEqual([
      `${path}:6:12: deny.agents.0: invalid regular expression: Invalid regular expression: /[/: Unterminated character class`,
      `${path}:4:16: deny.commands.1: invalid regular expression: Invalid regular expression: /(unclosed/: Unterminated group`,
    ]);
  });

  it('refuses a relative path pattern, which could never match', async () => {
    const path = policyFile('deny:\n  paths: ["etc/shadow"]\n');
    expect(await errorsOf(path)).toEqual([`${path}:2:11: deny.paths.0: paths are matched as absolute paths: start the pattern with / or **`]);
  });

  it('reports invalid YAML with its location', async () => {
    const path = policyFile('deny:\n  tools: [bash\n');
    const errors = await errorsOf(path);
    expect(errors[0]).toMatch(new RegExp(`^${path}:\\d+:\\d+: invalid YAML: `));
  });

  it('refuses a policy that is not a mapping', async () => {
    const path = policyFile('- bash\n');
    expect(await errorsOf(path)).toEqual([`${path}:1:1: the policy must be a mapping (deny:, cp_definitions:, allow_executables:, …)`]);
  });

  it('refuses a world-writable file', async () => {
    const path = policyFile('deny:\n  tools: [bash]\n');
    chmodSync(path, 0o666);
    expect(await errorsOf(path)).toEqual([`${path}:1:1: the policy file is writable by every user (mode 666); refusing it (chmod o-w)`]);
  });

  it('refuses a file owned by another user', async () => {
    const path = policyFile('deny:\n  tools: [bash]\n');
    const me = process.getuid?.() ?? 0;
    // As root, hand the file to someone else; otherwise load it as if the daimon were someone else.
    if (me === 0) chownSync(path, 4321, 4321);
    const errors = await errorsOf(path, me === 0 ? { required: true } : { required: true, uid: me + 1 });
    expect(errors).toEqual([expect.stringMatching(/the policy file is owned by uid \d+, not root or this daimon's user \(uid \d+\); refusing it$/)]);
  });

  it('refuses a file over 1 MiB', async () => {
    const path = policyFile(`# ${'x'.repeat(POLICY_MAX_BYTES)}\n`);
    expect(await errorsOf(path)).toEqual([expect.stringMatching(/the policy file is \d+ bytes; the limit is 1048576$/)]);
  });

  it('refuses something that is not a regular file', async () => {
    const sub = join(dir, 'policy.d');
    mkdirSync(sub);
    expect(await errorsOf(sub)).toEqual([`${sub}:1:1: the policy file is not a regular file`]);
  });

  it('follows a symlink and judges the file it points to', async () => {
    const target = policyFile('deny:\n  tools: [bash]\n', 'real.yaml');
    const link = join(dir, 'policy.yaml');
    symlinkSync(target, link);
    const r = await loadHostPolicy(link, { required: true });
    expect(r.ok && r.policy.deny.tools).toEqual([{ pattern: 'bash' }]);
    chmodSync(target, 0o646);
    expect(await errorsOf(link)).toEqual([expect.stringMatching(/writable by every user/)]);
  });
});

describe('parsePolicy', () => {
  it('accepts both pattern forms', () => {
    const r = parsePolicy('deny:\n  tools: [bash, {pattern: search, reason: slow}]\n', '<text>');
    expect(r.ok && r.policy.deny.tools).toEqual([{ pattern: 'bash' }, { pattern: 'search', reason: 'slow' }]);
  });

  it.each([
    ['a misspelt key', 'deny:\n  tools:\n    - {pattern: bash, reson: typo}\n', '<text>:3:23: deny.tools.0.reson: unknown field; did you mean reason?'],
    ['a number', 'deny:\n  tools:\n    - 42\n', '<text>:3:7: deny.tools.0: expected a pattern, or { pattern, reason }'],
  ])('refuses an entry with %s', (_name, text, error) => {
    const r = parsePolicy(text, '<text>');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map(formatSpecError)).toEqual([error]);
  });
});

describe('parsePolicy: signed definitions and the executable allowlist', () => {
  const KEY = 'ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';

  it('reads cp_definitions: signed, trusted keys in both forms, cp_commands and allow_executables', () => {
    const text = [
      'cp_definitions: signed',
      'trusted_agent_keys:',
      `  - ${KEY}`,
      `  - { key: "${KEY}", name: release }`,
      'cp_commands: false',
      'allow_executables: [/usr/bin/ps, /usr/bin/ss]',
      'exempt_local_agents: true',
      '',
    ].join('\n');
    const r = parsePolicy(text, '<text>');
    if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
    expect(r.policy).toMatchObject({
      cpDefinitions: 'signed', cpCommands: false, allowExecutables: ['/usr/bin/ps', '/usr/bin/ss'], exemptLocalAgents: true,
      trustedAgentKeys: [{ key: KEY }, { key: KEY, name: 'release' }],
    });
  });

  it('leaves allow_executables unset when absent (every executable allowed)', () => {
    const r = parsePolicy('cp_definitions: true\n', '<text>');
    expect(r.ok && 'allowExecutables' in r.policy).toBe(false);
  });

  it.each([
    ['signed with no trusted key', 'cp_definitions: signed\n', '<text>:1:17: cp_definitions: signed needs at least one key under trusted_agent_keys'],
    ['a key in another form', 'trusted_agent_keys: ["ssh-ed25519 AAAA"]\n', '<text>:1:22: trusted_agent_keys.0: expected an ed25519 public key written ed25519:<base64 of 32 bytes> (okesu agents keygen prints one)'],
    ['a key of the wrong length', 'trusted_agent_keys:\n  - key: ed25519:AAAA\n', '<text>:2:10: trusted_agent_keys.0: expected an ed25519 public key written ed25519:<base64 of 32 bytes> (okesu agents keygen prints one)'],
    ['a misspelt key field', `trusted_agent_keys:\n  - { key: "${KEY}", nmae: x }\n`, '<text>:2:68: trusted_agent_keys.0.nmae: unknown field; did you mean name?'],
    ['a relative executable', 'allow_executables: [ps]\n', '<text>:1:21: allow_executables.0: expected an absolute path of an executable, such as /usr/bin/ps'],
    ['cp_definitions: maybe', 'cp_definitions: maybe\n', '<text>:1:17: cp_definitions: expected true, false or signed'],
    ['exempt_local_agents without a list', 'exempt_local_agents: true\n', '<text>:1:22: exempt_local_agents: exempt_local_agents only qualifies allow_executables, which is not set'],
  ])('refuses %s, at its location', (_name, text, error) => {
    const r = parsePolicy(text, '<text>');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map(formatSpecError)).toEqual([error]);
  });
});
