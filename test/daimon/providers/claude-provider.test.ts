import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClaudeProvider, DEFAULT_CLAUDE_MODEL } from '../../../daimon/providers/claude-provider.js';
import type { ModelProviderOptions } from '../../../daimon/providers/llm/model-options.js';
import type { RunContext } from '../../../daimon/provider.js';
import { claudeError, claudeText, claudeToolUse, startFakeAnthropic } from '../../support/fake-anthropic-server.js';
import type { AnthropicBlock, FakeAnthropic } from '../../support/fake-anthropic-server.js';
import { closedOrigin } from '../../support/scripted-http-server.js';
import { memoryLogger, recorder, waitFor } from '../run-helpers.js';
import { echoToolbox, modelAgent, modelContext } from './llm-helpers.js';
import { createSecretStore } from '../../../daimon/secrets/secret-store.js';

const KEY = 'sk-ant-test-0123456789';

let server: FakeAnthropic;
beforeEach(async () => {
  server = await startFakeAnthropic();
});
afterEach(async () => {
  await server.close();
});

const claudeAgent = (...lines: string[]) => modelAgent(['provider: claude', ...lines]);

async function run(ctx: RunContext = modelContext(claudeAgent()), options: ModelProviderOptions = {}) {
  const { events, emit } = recorder();
  const provider = createClaudeProvider({ secrets: createSecretStore({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.baseURL }), maxRetries: 0, ...options });
  const outcome = await provider.run(ctx, emit);
  return { events, outcome };
}

/** The tool_result blocks of the last user turn of request `i`. */
function toolResults(i: number): AnthropicBlock[] {
  const last = server.body(i).messages.at(-1);
  expect(last?.role).toBe('user');
  return last?.content as AnthropicBlock[];
}

describe('claude provider: requests and answers', () => {
  it('sends system prompt, task, tools, model and max_tokens, and relays a plain answer', async () => {
    server.enqueue(claudeText('All quiet on web-1.', { input_tokens: 120, output_tokens: 30 }));
    const { events, outcome } = await run(modelContext(claudeAgent(), { toolbox: echoToolbox() }));

    expect(outcome).toEqual({ status: 'completed', usage: { input_tokens: 120, output_tokens: 30 } });
    expect(events).toEqual([{ type: 'text', text: 'All quiet on web-1.' }]);
    expect(server.requests).toHaveLength(1);
    const body = server.body(0);
    expect(body.model).toBe(DEFAULT_CLAUDE_MODEL);
    expect(body.max_tokens).toBe(8192);
    expect(body.system).toBe('SYSTEM PROMPT: check this host.');
    expect(body.messages).toEqual([{ role: 'user', content: 'check the disk' }]);
    expect(body.tools?.map((t) => t.name)).toEqual(['echo', 'report_finding', 'report_result']);
    const reportFinding = body.tools?.find((t) => t.name === 'report_finding');
    expect(reportFinding?.input_schema).toMatchObject({ type: 'object', required: ['severity', 'title'] });
    expect(Object.keys(reportFinding?.input_schema.properties as object)).toEqual([
      'severity', 'title', 'category', 'resource', 'evidence', 'dedup_key', 'recommended_action', 'tags', 'attributes',
    ]);
    expect(body.tools?.find((t) => t.name === 'report_result')?.input_schema).toMatchObject({ required: ['attributes'] });
    expect(body.tools?.[0]?.input_schema).toEqual({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
    // The SDK sends the key as a bearer token; it appears nowhere else in the request.
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(server.requests[0]?.headers['anthropic-version']).toBeTruthy();
    expect(JSON.stringify(server.requests[0]?.body)).not.toContain(KEY);
  });

  it('uses the agent body when there is no rendered system prompt, a default task when the prompt is empty, and the agent model and effort', async () => {
    server.enqueue(claudeText('done'));
    const agent = modelAgent(['provider: claude', 'model: claude-opus-4-7', 'effort: high'], 'BODY PROMPT');
    await run(modelContext(agent, { system: undefined, prompt: '  ' }));
    const body = server.body(0);
    expect(body.system).toBe('BODY PROMPT');
    expect(body.messages).toEqual([{ role: 'user', content: 'Run your checks on this host now and report findings.' }]);
    expect(body.model).toBe('claude-opus-4-7');
    expect(body.max_tokens).toBe(16384);
    expect(body.tools?.map((t) => t.name)).toEqual(['report_finding', 'report_result']);
  });

  it('runs a tool the model asks for, sends the result back, and sums usage over the turns', async () => {
    server.enqueue(
      claudeToolUse([{ id: 'toolu_1', name: 'echo', input: { text: 'disk 91%' } }], { text: 'Let me look.', usage: { input_tokens: 100, output_tokens: 20 } }),
      claudeText('Disk is at 91%.', { input_tokens: 150, output_tokens: 25 }),
    );
    const toolbox = echoToolbox();
    const { events, outcome } = await run(modelContext(claudeAgent(), { toolbox }));

    expect(outcome).toEqual({ status: 'completed', usage: { input_tokens: 250, output_tokens: 45 } });
    expect(toolbox.calls).toEqual([{ name: 'echo', input: { text: 'disk 91%' } }]);
    expect(events).toEqual([
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_call', id: 'toolu_1', tool: 'echo', input: { text: 'disk 91%' } },
      { type: 'tool_result', id: 'toolu_1', tool: 'echo', output: 'disk 91%', is_error: false },
      { type: 'text', text: 'Disk is at 91%.' },
    ]);
    expect(server.requests).toHaveLength(2);
    expect(server.body(1).messages).toEqual([
      { role: 'user', content: 'check the disk' },
      { role: 'assistant', content: [{ type: 'text', text: 'Let me look.' }, { type: 'tool_use', id: 'toolu_1', name: 'echo', input: { text: 'disk 91%' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'disk 91%', is_error: false }] },
    ]);
  });

  it('tells the model when a tool is refused, and runs several calls of one turn in order', async () => {
    server.enqueue(
      claudeToolUse([
        { id: 'a', name: 'bash', input: { command: 'id' } },
        { id: 'b', name: 'echo', input: { text: 'second' } },
      ]),
      claudeText('ok'),
    );
    const { events } = await run(modelContext(claudeAgent(), { toolbox: echoToolbox() }));
    expect(events.filter((e) => e.type === 'action_denied')).toEqual([expect.objectContaining({ id: 'a', tool: 'bash' })]);
    expect(toolResults(1)).toEqual([
      { type: 'tool_result', tool_use_id: 'a', content: 'denied: tool bash is not available to this agent', is_error: true },
      { type: 'tool_result', tool_use_id: 'b', content: 'second', is_error: false },
    ]);
  });
});

describe('claude provider: findings and results', () => {
  it('records a valid report_finding and tells the model', async () => {
    const input = { severity: 'high', title: 'Listener on 4444', category: 'network', resource: 'port:4444', evidence: ['tcp LISTEN 0.0.0.0:4444'] };
    server.enqueue(claudeToolUse([{ id: 'f1', name: 'report_finding', input }]), claudeText('Reported.'));
    const { events, outcome } = await run();

    expect(outcome.status).toBe('completed');
    expect(events).toEqual([
      { type: 'tool_call', id: 'f1', tool: 'report_finding', input },
      {
        type: 'finding', severity: 'HIGH', title: 'Listener on 4444', category: 'network', resource: 'port:4444',
        evidence: ['tcp LISTEN 0.0.0.0:4444'], dedup_key: '', tags: [], attributes: {},
      },
      { type: 'tool_result', id: 'f1', tool: 'report_finding', output: 'recorded', is_error: false },
      { type: 'text', text: 'Reported.' },
    ]);
    expect(toolResults(1)).toEqual([{ type: 'tool_result', tool_use_id: 'f1', content: 'recorded', is_error: false }]);
  });

  it('refuses an invalid report_finding, says what was wrong, and emits no finding', async () => {
    server.enqueue(claudeToolUse([{ id: 'f2', name: 'report_finding', input: { severity: 'SEVERE', category: 'network' } }]), claudeText('Sorry.'));
    const { events } = await run();

    expect(events.filter((e) => e.type === 'finding')).toEqual([]);
    const [result] = toolResults(1);
    expect(result).toMatchObject({ type: 'tool_result', tool_use_id: 'f2', is_error: true });
    const content = (result as { content: string }).content;
    expect(content).toMatch(/^finding not recorded: /);
    expect(content).toContain('severity: expected one of CRITICAL, HIGH, MEDIUM, LOW, INFO');
    expect(content).toContain('title:');
    expect(events).toContainEqual({ type: 'tool_result', id: 'f2', tool: 'report_finding', output: content, is_error: true });
  });

  it('emits one orchestration_result and refuses a second', async () => {
    server.enqueue(
      claudeToolUse([
        { id: 'r1', name: 'report_result', input: { attributes: { suspicious: 2, hosts: ['a'] } } },
        { id: 'r2', name: 'report_result', input: { attributes: { suspicious: 3 } } },
      ]),
      claudeText('done'),
    );
    const { events } = await run();
    expect(events.filter((e) => e.type === 'orchestration_result')).toEqual([{ type: 'orchestration_result', attributes: { suspicious: 2, hosts: ['a'] } }]);
    expect(toolResults(1)).toEqual([
      { type: 'tool_result', tool_use_id: 'r1', content: 'recorded', is_error: false },
      { type: 'tool_result', tool_use_id: 'r2', content: expect.stringMatching(/once per run/), is_error: true },
    ]);
  });

  it('accepts a finding written as a JSON line in the text', async () => {
    const line = JSON.stringify({ type: 'finding', severity: 'medium', title: 'Root login over SSH allowed', category: 'config' });
    server.enqueue(claudeText(`Here is what I found:\n${line}\n{"severity":"nope","title":"bad"}\nThat is all.`));
    const { events } = await run();
    expect(events.map((e) => e.type)).toEqual(['text', 'finding']);
    expect(events[1]).toMatchObject({ type: 'finding', severity: 'MEDIUM', title: 'Root login over SSH allowed', category: 'config' });
  });
});

describe('claude provider: failures', () => {
  it('retries a 429 after retry-after-ms, then completes', async () => {
    server.enqueue(claudeError(429, 'rate_limit_error', 'slow down', { 'retry-after-ms': '5' }), claudeText('fine'));
    const { events, outcome } = await run(undefined, { maxRetries: 3 });
    expect(server.requests).toHaveLength(2);
    expect(outcome.status).toBe('completed');
    expect(events).toEqual([{ type: 'text', text: 'fine' }]);
  });

  it('reports api_unavailable with the status when 5xx persists after the retries, and completes', async () => {
    server.otherwise(claudeError(500, 'api_error', 'internal trouble', { 'retry-after-ms': '1' }));
    const { events, outcome } = await run(undefined, { maxRetries: 2 });
    expect(server.requests).toHaveLength(3);
    expect(events).toEqual([{ type: 'api_unavailable', provider: 'claude', status: 500, error: '500 api_error: internal trouble' }]);
    expect(outcome).toEqual({ status: 'completed', usage: { input_tokens: 0, output_tokens: 0 } });
  });

  it('reports api_unavailable when nothing listens, and completes', async () => {
    const origin = await closedOrigin();
    const { events } = recorder();
    const provider = createClaudeProvider({ secrets: createSecretStore({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: origin }), maxRetries: 0 });
    const outcome = await provider.run(modelContext(claudeAgent()), async (e) => void events.push(e));
    expect(outcome.status).toBe('completed');
    expect(events).toEqual([{ type: 'api_unavailable', provider: 'claude', error: expect.stringMatching(/ECONNREFUSED/) }]);
  });

  it('reports api_unavailable without any request when there is no key', async () => {
    for (const env of [{ ANTHROPIC_BASE_URL: server.baseURL }, { ANTHROPIC_API_KEY: '  ', ANTHROPIC_BASE_URL: server.baseURL }]) {
      const { events, emit } = recorder();
      const outcome = await createClaudeProvider({ secrets: createSecretStore(env) }).run(modelContext(claudeAgent()), emit);
      expect(outcome).toEqual({ status: 'completed' });
      expect(events).toEqual([{ type: 'api_unavailable', provider: 'claude', error: 'ANTHROPIC_API_KEY is not set' }]);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('never reads process.env: with no secrets given it is api_unavailable, whatever the environment holds', async () => {
    process.env.ANTHROPIC_API_KEY = KEY;
    process.env.ANTHROPIC_BASE_URL = server.baseURL;
    try {
      const { events, emit } = recorder();
      await createClaudeProvider({ maxRetries: 0 }).run(modelContext(claudeAgent()), emit);
      expect(events).toEqual([{ type: 'api_unavailable', provider: 'claude', error: 'ANTHROPIC_API_KEY is not set' }]);
      expect(server.requests).toHaveLength(0);
    } finally {
      delete process.env.ANTHROPIC_API_KEY;
      delete process.env.ANTHROPIC_BASE_URL;
    }
  });

  it('treats a 401 as unavailable and never lets the key into an event', async () => {
    server.enqueue(claudeError(401, 'authentication_error', `invalid x-api-key ${KEY}`));
    const { events, outcome } = await run();
    expect(outcome.status).toBe('completed');
    expect(events).toEqual([{ type: 'api_unavailable', provider: 'claude', status: 401, error: '401 authentication_error: invalid x-api-key [redacted]' }]);
    expect(JSON.stringify(events)).not.toContain(KEY);
  });

  it('fails with a provider_error on a 400, without retrying', async () => {
    server.enqueue(claudeError(400, 'invalid_request_error', 'model: unknown model claude-nope'));
    const { events, outcome } = await run(undefined, { maxRetries: 3 });
    expect(server.requests).toHaveLength(1);
    expect(events).toEqual([{ type: 'error', code: 'provider_error', status: 400, message: '400 invalid_request_error: model: unknown model claude-nope' }]);
    expect(outcome).toMatchObject({ status: 'failed', error: expect.stringContaining('unknown model claude-nope') });
  });

  it('stops after maxTurns model calls when the model keeps asking for tools', async () => {
    server.otherwise(claudeToolUse([{ name: 'echo', input: { text: 'again' } }]));
    const { events, outcome } = await run(modelContext(claudeAgent('maxTurns: 3'), { toolbox: echoToolbox() }));
    expect(server.requests).toHaveLength(3);
    expect(events.at(-1)).toEqual({ type: 'error', code: 'max_turns', message: expect.stringMatching(/^stopped after 3 turns/) });
    expect(outcome).toMatchObject({ status: 'failed', error: expect.stringMatching(/^stopped after 3 turns/), usage: { input_tokens: 30, output_tokens: 15 } });
  });

  it('aborts a request in flight when the run signal aborts, and returns promptly', async () => {
    server.otherwise('hang');
    const controller = new AbortController();
    const { events, emit } = recorder();
    const provider = createClaudeProvider({ secrets: createSecretStore({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.baseURL }), maxRetries: 3 });
    const running = provider.run(modelContext(claudeAgent(), { signal: controller.signal }), emit);
    await waitFor(() => server.requests.length === 1, 5000, 'the request to arrive');
    const abortedAt = Date.now();
    controller.abort('timeout');
    const outcome = await running;
    expect(Date.now() - abortedAt).toBeLessThan(5000); // not the 30 s retry or the hang; 1 s was a bet on an idle machine
    expect(outcome).toMatchObject({ status: 'failed', error: 'aborted' });
    expect(events).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('aborts while the SDK waits to retry a 429, and returns promptly', async () => {
    server.otherwise(claudeError(429, 'rate_limit_error', 'slow down', { 'retry-after-ms': '30000' }));
    const controller = new AbortController();
    const log = memoryLogger();
    const { events, emit } = recorder();
    const provider = createClaudeProvider({ secrets: createSecretStore({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.baseURL }), maxRetries: 3 });
    const running = provider.run(modelContext(claudeAgent(), { signal: controller.signal, log }), emit);
    // The SDK logs the retry just before it starts waiting.
    await waitFor(() => log.lines.some((l) => /429.*retrying/.test(l.msg ?? '')), 5000, 'the SDK to wait for a retry');
    const abortedAt = Date.now();
    controller.abort('timeout');
    expect(await running).toMatchObject({ status: 'failed', error: 'aborted' });
    expect(Date.now() - abortedAt).toBeLessThan(5000); // not the 30 s retry or the hang; 1 s was a bet on an idle machine
    expect(events).toEqual([]);
  });
});
