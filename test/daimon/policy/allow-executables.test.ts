import { chmodSync, existsSync, mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAgentPipeline } from '../../../daimon/agent-run/agent-pipeline.js';
import { runCollectors } from '../../../daimon/collectors/run-collectors.js';
import { createExecutableResolver } from '../../../daimon/policy/resolve-executable.js';
import { createCustomProvider } from '../../../daimon/providers/custom-provider.js';
import { cpDefinitionSource } from '../../../daimon/resolve-dispatch.js';
import { NO_TOOLS } from '../../../daimon/tools/tool.js';
import type { EventBody } from '../../../src/protocol/event.js';
import { checkArgv, checkCommand } from '../../../src/specs/gate.js';
import { parseAgent } from '../../../src/specs/parse-agent.js';
import type { HostPolicy } from '../../../src/specs/policy-spec.js';
import { EMPTY_POLICY } from '../../../src/specs/policy-spec.js';
import { callTool, toolAgent } from '../tools/tool-helpers.js';

// A fake curl and rm first on PATH: each leaves a marker file when it runs, so a test can tell that nothing ran.
let dir: string;
let env: Record<string, string>;
const marker = (name: string): string => join(dir, `${name}.ran`);
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'okesu-allow-')));
  mkdirSync(join(dir, 'bin'));
  for (const name of ['curl', 'rm', 'multi']) {
    writeFileSync(join(dir, 'bin', name), `#!/bin/sh\ntouch "${dir}/$(basename "$0").ran"\necho ran\n`);
    chmodSync(join(dir, 'bin', name), 0o755);
  }
  // A multi-call binary (busybox style) under two names.
  symlinkSync(join(dir, 'bin', 'multi'), join(dir, 'bin', 'ps'));
  symlinkSync(join(dir, 'bin', 'multi'), join(dir, 'bin', 'wget'));
  env = { PATH: `${dir}/bin:/usr/bin:/bin` };
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const policy = (over: Partial<HostPolicy>): HostPolicy => ({
  ...EMPTY_POLICY, source: '<test>', deny: { ...EMPTY_POLICY.deny, commands: [{ pattern: 'curl *' }, { pattern: '*rm -rf*' }] }, ...over,
});
const allowlist = (): HostPolicy => policy({ allowExecutables: ['/usr/bin/echo', '/usr/bin/uname', `${dir}/bin/ps`] });

const DODGES = ["c''url x", '/BIN/curl x', 'env curl x', 'rm -fr /nothing', '$(printf curl) x', 'cu\\rl x', ';curl x', 'PATH=/x curl x', 'exec curl x', 'time curl x'];
const expand = (command: string): string => command.replace('/BIN', `${dir}/bin`);

describe('allow_executables: the command control that holds', () => {
  it.each(DODGES)('refuses %j through the bash tool, and nothing runs', async (dodge) => {
    const { reply, events } = await callTool(toolAgent(['bash']), allowlist(), 'bash', { command: expand(dodge) }, { env, cwd: dir });
    expect(reply.isError).toBe(true);
    expect(events.find((e) => e.type === 'action_denied')).toMatchObject({ by: 'policy' });
    expect(existsSync(marker('curl')) || existsSync(marker('rm'))).toBe(false);
  });

  it.each(DODGES)('refuses %j as a collector, and nothing runs', async (dodge) => {
    const p = allowlist();
    const resolver = createExecutableResolver(env, dir);
    const [out] = await runCollectors([{ name: 'c', command: expand(dodge), timeoutMs: 5000, optional: false, emitOutput: false }], {
      env, cwd: dir, policy: p, signal: new AbortController().signal, checkCommand: (c) => checkCommand(p, c, resolver),
    });
    expect(out?.error).toMatch(/^denied by host policy: /);
    expect(existsSync(marker('curl')) || existsSync(marker('rm'))).toBe(false);
  });

  it('runs allowed commands: a plain word list whose executable is listed', async () => {
    const { reply } = await callTool(toolAgent(['bash']), allowlist(), 'bash', { command: 'echo hello  world' }, { env, cwd: dir });
    expect(reply).toMatchObject({ isError: false, content: expect.stringContaining('hello world') });
    const p = allowlist();
    const resolver = createExecutableResolver(env, dir);
    const [out] = await runCollectors([{ name: 'k', command: 'uname -s', timeoutMs: 5000, optional: false, emitOutput: false }], {
      env, cwd: dir, policy: p, signal: new AbortController().signal, checkCommand: (c) => checkCommand(p, c, resolver),
    });
    expect(out).toMatchObject({ exitCode: 0, output: expect.stringMatching(/\S/) });
  });

  it('holds a multi-call binary to the name it was allowed under (busybox: /bin/ps and /bin/wget are one file)', () => {
    const resolver = createExecutableResolver(env, dir);
    expect(checkCommand(allowlist(), 'ps -ef', resolver)).toBeUndefined();
    expect(checkCommand(allowlist(), 'wget http://x', resolver)?.reason).toMatch(/wget runs .*\/bin\/wget \(.*\/bin\/multi\), which is not among the host policy's allow_executables/);
  });

  it('finds executables with the PATH children get, and refuses bare words when there is none', () => {
    expect(checkCommand(allowlist(), 'echo hi', createExecutableResolver({}, dir))?.reason).toMatch(/echo is not an executable found on this host's PATH/);
    expect(checkCommand(allowlist(), '/usr/bin/echo hi', createExecutableResolver({}, dir))).toBeUndefined();
    expect(checkCommand(allowlist(), 'echo hi')?.reason).toMatch(/cannot be checked/);
  });

  it('judges an argv custom command by argv[0], passing its arguments as they are', () => {
    const resolver = createExecutableResolver(env, dir);
    expect(checkArgv(allowlist(), ['echo', "c''url; $(x)"], resolver)).toBeUndefined();
    expect(checkArgv(allowlist(), ['curl', 'x'], resolver)?.by).toBe('policy');
    expect(checkArgv(allowlist(), ['/usr/bin/env', 'curl'], resolver)?.reason).toMatch(/not among the host policy's allow_executables/);
  });

  it('refuses a custom provider whose command is not allowed before starting it (the pipeline)', async () => {
    const parsed = parseAgent(`---\nname: probe\nprovider: custom\ncommand: ${JSON.stringify(`${dir}/bin/rm x`)}\n---\nbody\n`, '<test>');
    if (!parsed.ok) throw new Error('bad agent');
    const pipeline = createAgentPipeline({
      policy: allowlist(), stateDir: join(dir, 'state'), env,
      providerFor: () => createCustomProvider({ env, cwd: dir }), toolboxFor: () => NO_TOOLS,
    });
    const events: EventBody[] = [];
    const outcome = await pipeline().run(
      { runId: 'r1', hostname: 'h', agent: parsed.agent, prompt: '', inputs: {}, signal: new AbortController().signal, log: pino({ level: 'silent' }) },
      async (e) => void events.push(e),
    );
    expect(outcome).toMatchObject({ status: 'failed', error: expect.stringMatching(/not among the host policy's allow_executables/) });
    expect(events.find((e) => e.type === 'action_denied')).toMatchObject({ tool: 'command', by: 'policy' });
    expect(existsSync(marker('rm'))).toBe(false);
  });
});

describe('exempt_local_agents', () => {
  /** Runs an agent whose one collector is a pipeline through the real pipeline; its collector_result event. */
  async function collectorOf(policy: HostPolicy, source: string): Promise<EventBody | undefined> {
    const parsed = parseAgent('---\nname: probe\nprovider: custom\ncommand: [/usr/bin/true]\ncollectors:\n  - { name: piped, command: "echo a | cat" }\n---\nbody\n', source);
    if (!parsed.ok) throw new Error('bad agent');
    const pipeline = createAgentPipeline({ policy, stateDir: join(dir, 'state'), env, providerFor: () => createCustomProvider({ env, cwd: dir }), toolboxFor: () => NO_TOOLS });
    const events: EventBody[] = [];
    await pipeline().run(
      { runId: 'r1', hostname: 'h', agent: parsed.agent, prompt: '', inputs: {}, signal: new AbortController().signal, log: pino({ level: 'silent' }) },
      async (e) => void events.push(e),
    );
    return events.find((e) => e.type === 'collector_result');
  }
  const exempt = (): HostPolicy => ({ ...allowlist(), exemptLocalAgents: true });

  it('lets the collectors of an agent from this host’s disk run as written', async () => {
    expect(await collectorOf(exempt(), '/etc/okesu/agents/probe.md')).toMatchObject({ exit_code: 0 });
    expect(await collectorOf(exempt(), '/etc/okesu/agents/probe.md')).not.toHaveProperty('error');
  });

  it('still holds a definition the CP sent to the list', async () => {
    expect(await collectorOf(exempt(), cpDefinitionSource('probe'))).toMatchObject({ error: expect.stringMatching(/runs only plain commands/) });
  });

  it('does nothing without it: the disk’s agents are held too', async () => {
    expect(await collectorOf(allowlist(), '/etc/okesu/agents/probe.md')).toMatchObject({ error: expect.stringMatching(/runs only plain commands/) });
  });
});

describe('deny.commands: a tripwire, not a boundary', () => {
  it('now also meets the executable a plain command really starts (/path/to/curl x hits "curl *")', () => {
    expect(checkCommand(policy({}), `${dir}/bin/curl x`, createExecutableResolver(env, dir))?.reason).toMatch(/pattern "curl \*"/);
  });

  it("still lets quoting and launchers through when there is no allowlist (c''url, env curl): that is why allow_executables exists", async () => {
    const resolver = createExecutableResolver(env, dir);
    expect(checkCommand(policy({}), "c''url x", resolver)).toBeUndefined();
    expect(checkCommand(policy({}), 'env curl x', resolver)).toBeUndefined();
    const { reply } = await callTool(toolAgent(['bash']), policy({}), 'bash', { command: "c''url x" }, { env, cwd: dir });
    expect(reply.isError).toBe(false);
    expect(existsSync(marker('curl'))).toBe(true);
  });
});
