import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToolbox } from '../../../daimon/tools/toolbox.js';
import { callTool, denyPolicy, tempDir, toolAgent } from './tool-helpers.js';

const open = denyPolicy();
let tmp: { dir: string; cleanup(): void };
let d: string;
beforeEach(() => {
  tmp = tempDir();
  d = tmp.dir;
  mkdirSync(join(d, 'pub'));
  mkdirSync(join(d, 'secret'));
  writeFileSync(join(d, 'pub', 'readme'), 'public');
  writeFileSync(join(d, 'secret', 'key'), 'TOP SECRET');
  symlinkSync(join(d, 'secret'), join(d, 'pub', 'to-secret-dir'));
  symlinkSync(join(d, 'secret', 'key'), join(d, 'pub', 'to-key'));
});
afterEach(() => tmp.cleanup());

describe('createToolbox specs', () => {
  it('offers the agent tools this build has, minus those the policy denies', () => {
    const box = createToolbox(toolAgent(['search', 'bash', 'web_fetch', 'read_file']), denyPolicy({ tools: ['read_file'] }));
    expect(box.specs.map((s) => s.name)).toEqual(['search', 'bash']);
  });

  it('describes each input with a JSON Schema object', () => {
    const box = createToolbox(toolAgent(['bash', 'read_file', 'list_files', 'search']), open);
    for (const spec of box.specs) {
      expect(spec.description.length).toBeGreaterThan(20);
      expect(spec.inputSchema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(spec.inputSchema).not.toHaveProperty('$schema');
    }
    expect(box.specs[0]?.inputSchema).toMatchObject({ required: ['command'], properties: { command: { type: 'string' }, timeout_s: { type: 'number' } } });
    expect(box.specs[3]?.inputSchema).toMatchObject({ required: ['pattern', 'path'] });
  });
});

describe('createToolbox calls', () => {
  it('records the call and its result', async () => {
    const { events } = await callTool(toolAgent(['read_file']), open, 'read_file', { path: join(d, 'pub', 'readme') });
    expect(events).toEqual([
      { type: 'tool_call', id: expect.any(String), tool: 'read_file', input: { path: join(d, 'pub', 'readme') } },
      { type: 'tool_result', id: events[0]?.id, tool: 'read_file', output: 'public', is_error: false, truncated: false, duration_ms: expect.any(Number) },
    ]);
  });

  const marker = (): string => join(d, 'ran');
  it.each([
    { name: 'a tool the agent does not list', agentTools: ['read_file'], policy: open, by: 'agent', reason: "bash is not among this agent's tools" },
    { name: 'a tool the policy denies', agentTools: ['bash'], policy: denyPolicy({ tools: [{ pattern: 'bash', reason: 'no shells' }] }), by: 'policy', reason: 'the host policy denies the tool bash (pattern "bash"): no shells' },
    { name: 'a command the policy denies', agentTools: ['bash'], policy: denyPolicy({ commands: ['touch *'] }), by: 'policy', reason: 'the host policy denies this command (pattern "touch *")' },
  ])('denies $name without running it', async ({ agentTools, policy, by, reason }) => {
    const input = { command: `touch ${marker()}` };
    const { reply, events } = await callTool(toolAgent(agentTools), policy, 'bash', input);
    expect(reply).toEqual({ content: `denied: ${reason}`, isError: true });
    expect(events).toEqual([
      { type: 'tool_call', id: expect.any(String), tool: 'bash', input },
      { type: 'action_denied', id: events[0]?.id, tool: 'bash', input, by, reason },
    ]);
    expect(existsSync(marker())).toBe(false);
  });

  it('denies by rbac with the rule reason', async () => {
    const agent = toolAgent(['bash'], { deny: [{ tool: 'bash', pattern: 'touch *', reason: 'read-only investigation' }] });
    const { reply, events } = await callTool(agent, open, 'bash', { command: `touch ${marker()}` });
    expect(reply.content).toBe('denied: rbac.deny forbids bash calls matching "touch *": read-only investigation');
    expect(events[1]).toMatchObject({ type: 'action_denied', by: 'rbac' });
    expect(existsSync(marker())).toBe(false);
  });

  it('denies a tool the agent lists but this daimon does not have', async () => {
    const { reply, events } = await callTool(toolAgent(['web_fetch']), open, 'web_fetch', { url: 'http://x' });
    expect(reply).toEqual({ content: 'denied: web_fetch is not a tool this daimon provides', isError: true });
    expect(events.map((e) => e.type)).toEqual(['tool_call', 'action_denied']);
  });

  it('checks the agent before the input', async () => {
    const { events } = await callTool(toolAgent([]), open, 'bash', { nonsense: true });
    expect(events.map((e) => e.type)).toEqual(['tool_call', 'action_denied']);
  });

  it('reports bad input as a failed result', async () => {
    const { reply, events } = await callTool(toolAgent(['read_file']), open, 'read_file', { path: 42 });
    expect(reply).toEqual({ content: 'invalid input for read_file: path: Invalid input: expected string, received number', isError: true });
    expect(events[1]).toMatchObject({ type: 'tool_result', is_error: true, truncated: false });
  });

  describe('paths are judged by their real target', () => {
    const secretDenied = (): ReturnType<typeof denyPolicy> => denyPolicy({ paths: [join(d, 'secret')] });
    it.each([
      { name: 'a symlink to a denied file', tool: 'read_file', input: () => ({ path: join(d, 'pub', 'to-key') }) },
      { name: 'a file below a symlink to a denied directory', tool: 'read_file', input: () => ({ path: join(d, 'pub', 'to-secret-dir', 'key') }) },
      { name: 'a missing file below a symlink to a denied directory', tool: 'read_file', input: () => ({ path: join(d, 'pub', 'to-secret-dir', 'nope') }) },
      { name: 'a symlink to a denied directory', tool: 'list_files', input: () => ({ path: join(d, 'pub', 'to-secret-dir') }) },
      { name: '.. out of an allowed directory', tool: 'read_file', input: () => ({ path: `${d}/pub/../secret/key` }) },
      { name: 'a relative path with ..', tool: 'search', input: () => ({ path: '../secret', pattern: 'SECRET' }) },
    ])('$name is denied by the policy', async ({ tool, input }) => {
      const { reply, events } = await callTool(toolAgent([tool]), secretDenied(), tool, input(), { cwd: join(d, 'pub') });
      expect(reply.isError).toBe(true);
      expect(reply.content).toMatch(new RegExp(`^denied: the host policy denies the path ${d}/secret`));
      expect(reply.content).not.toContain('TOP SECRET');
      expect(events.map((e) => e.type)).toEqual(['tool_call', 'action_denied']);
    });

    it('an rbac.allow on a directory does not let a symlink out of it', async () => {
      const agent = toolAgent(['read_file'], { allow: [{ tool: 'read_file', pattern: `${d}/pub/**` }] });
      expect((await callTool(agent, open, 'read_file', { path: join(d, 'pub', 'readme') })).reply.content).toBe('public');
      const { reply } = await callTool(agent, open, 'read_file', { path: join(d, 'pub', 'to-key') });
      expect(reply.content).toMatch(/^denied: this read_file call is not allowed by rbac\.allow/);
    });
  });

  it.each([
    ['/proc/self/environ'],
    [`/proc/${process.pid}/environ`],
    ['/proc/thread-self/environ'],
    [`/proc/${process.pid}/task/${process.pid}/mem`],
  ])("never reads the daimon's own process files: %s", async (path) => {
    const { reply } = await callTool(toolAgent(['read_file']), open, 'read_file', { path });
    expect(reply.content).toBe("denied: the daimon's own process files (/proc/<its pid>) are never readable by tools");
  });

  it('does not run a tool whose call cannot be recorded, and does not throw', async () => {
    const box = createToolbox(toolAgent(['bash']), open);
    const reply = await box.call({ id: 'x', name: 'bash', input: { command: `touch ${marker()}` } }, new AbortController().signal, async () => {
      throw new Error('spool full');
    });
    expect(reply).toEqual({ content: 'bash was not run: its events could not be recorded', isError: true });
    expect(existsSync(marker())).toBe(false);
  });
});
