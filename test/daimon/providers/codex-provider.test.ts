import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCodexProvider, DEFAULT_CODEX_MODEL } from '../../../daimon/providers/codex-provider.js';
import type { ModelProviderOptions } from '../../../daimon/providers/llm/model-options.js';
import type { RunContext } from '../../../daimon/provider.js';
import { openaiError, openaiText, openaiToolCalls, startFakeOpenAI } from '../../support/fake-openai-server.js';
import type { FakeOpenAI } from '../../support/fake-openai-server.js';
import { closedOrigin } from '../../support/scripted-http-server.js';
import { memoryLogger, recorder, waitFor } from '../run-helpers.js';
import { echoToolbox, modelAgent, modelContext } from './llm-helpers.js';
import { createSecretStore } from '../../../daimon/secrets/secret-store.js';
import type { ProviderSettings } from '../../../daimon/secrets/secret-store.js';

const KEY = 'sk-proj-test-9876543210';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await startFakeOpenAI();
});
afterEach(async () => {
  await server.close();
});

const codexAgent = (...lines: string[]) => modelAgent(['provider: codex', ...lines]);
const env = (): ProviderSettings => ({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.baseURL });

async function run(ctx: RunContext = modelContext(codexAgent()), options: ModelProviderOptions = {}) {
  const { events, emit } = recorder();
  const outcome = await createCodexProvider({ secrets: createSecretStore(env()), maxRetries: 0, ...options }).run(ctx, emit);
  return { events, outcome };
}

describe('codex provider: requests and answers', () => {
  it('sends system prompt, task, function tools, model and token budget, and relays a plain answer', async () => {
    server.enqueue(openaiText('Nothing to report.', { prompt_tokens: 80, completion_tokens: 12 }));
    const { events, outcome } = await run(modelContext(codexAgent(), { toolbox: echoToolbox() }));

    expect(outcome).toEqual({ status: 'completed', usage: { input_tokens: 80, output_tokens: 12 } });
    expect(events).toEqual([{ type: 'text', text: 'Nothing to report.' }]);
    const body = server.body(0);
    expect(body.model).toBe(DEFAULT_CODEX_MODEL);
    expect(body.max_completion_tokens).toBe(8192);
    expect(body.reasoning_effort).toBe('medium');
    expect(body.messages).toEqual([
      { role: 'system', content: 'SYSTEM PROMPT: check this host.' },
      { role: 'user', content: 'check the disk' },
    ]);
    expect(body.tools?.map((t) => [t.type, t.function.name])).toEqual([['function', 'echo'], ['function', 'report_finding'], ['function', 'report_result']]);
    expect(body.tools?.[1]?.function.parameters).toMatchObject({ type: 'object', required: ['severity', 'title'] });
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(server.requests[0]?.path).toBe('/v1/chat/completions');
  });

  it.each([
    ['gpt-5-mini', 'low', 2048, 'low'],
    ['o3', 'high', 16384, 'high'],
    ['gpt-4.1', 'high', 16384, undefined],
  ])('model %s with effort %s: max_completion_tokens %i, reasoning_effort %s', async (model, effort, tokens, reasoning) => {
    server.enqueue(openaiText('ok'));
    await run(modelContext(codexAgent(`model: ${model}`, `effort: ${effort}`)));
    const body = server.body(0);
    expect(body.model).toBe(model);
    expect(body.max_completion_tokens).toBe(tokens);
    expect(body.reasoning_effort).toBe(reasoning);
  });

  it('runs tool calls in order, sends role:tool results back, and sums usage', async () => {
    server.enqueue(
      openaiToolCalls(
        [
          { id: 'call_a', name: 'echo', arguments: { text: 'load 0.4' } },
          { id: 'call_b', name: 'bash', arguments: { command: 'id' } },
        ],
        { usage: { prompt_tokens: 50, completion_tokens: 10 } },
      ),
      openaiText('Load is fine.', { prompt_tokens: 70, completion_tokens: 8 }),
    );
    const { events, outcome } = await run(modelContext(codexAgent(), { toolbox: echoToolbox() }));

    expect(outcome).toEqual({ status: 'completed', usage: { input_tokens: 120, output_tokens: 18 } });
    expect(events.map((e) => e.type)).toEqual(['tool_call', 'tool_result', 'tool_call', 'action_denied', 'text']);
    const messages = server.body(1).messages;
    expect(messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'echo', arguments: '{"text":"load 0.4"}' } },
          { id: 'call_b', type: 'function', function: { name: 'bash', arguments: '{"command":"id"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'load 0.4' },
      { role: 'tool', tool_call_id: 'call_b', content: 'error: denied: tool bash is not available to this agent' },
    ]);
  });

  it('refuses a call whose arguments are not JSON, and tells the model', async () => {
    server.enqueue(openaiToolCalls([{ id: 'call_x', name: 'echo', arguments: '{"text": ' }]), openaiText('retrying later'));
    const toolbox = echoToolbox();
    const { events } = await run(modelContext(codexAgent(), { toolbox }));
    expect(toolbox.calls).toEqual([]);
    expect(events[1]).toMatchObject({ type: 'tool_result', id: 'call_x', is_error: true, output: expect.stringMatching(/not valid JSON/) });
    expect(server.body(1).messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_x', content: expect.stringMatching(/^error: tool call not run: its arguments are not valid JSON/) });
  });

  it('records report_finding and report_result, and a finding written as a JSON line', async () => {
    server.enqueue(
      openaiToolCalls([
        { id: 'f', name: 'report_finding', arguments: { severity: 'critical', title: 'Miner running', category: 'process', resource: 'pid:42' } },
        { id: 'bad', name: 'report_finding', arguments: { title: 'no severity' } },
        { id: 'r', name: 'report_result', arguments: { attributes: { miners: 1 } } },
      ]),
      openaiText('{"type":"finding","severity":"LOW","title":"Swap disabled","category":"config"}'),
    );
    const { events } = await run();
    expect(events.filter((e) => e.type === 'finding').map((e) => [e.severity, e.title])).toEqual([['CRITICAL', 'Miner running'], ['LOW', 'Swap disabled']]);
    expect(events.filter((e) => e.type === 'orchestration_result')).toEqual([{ type: 'orchestration_result', attributes: { miners: 1 } }]);
    expect(server.body(1).messages.slice(3)).toEqual([
      { role: 'tool', tool_call_id: 'f', content: 'recorded' },
      { role: 'tool', tool_call_id: 'bad', content: expect.stringMatching(/^error: finding not recorded: severity: /) },
      { role: 'tool', tool_call_id: 'r', content: 'recorded' },
    ]);
  });
});

describe('codex provider: failures', () => {
  it('retries a 429 after retry-after-ms, then completes', async () => {
    server.enqueue(openaiError(429, 'rate_limit_exceeded', 'slow down', { 'retry-after-ms': '5' }), openaiText('fine'));
    const { outcome } = await run(undefined, { maxRetries: 3 });
    expect(server.requests).toHaveLength(2);
    expect(outcome.status).toBe('completed');
  });

  it('reports api_unavailable with the status when 5xx persists, and completes', async () => {
    server.otherwise(openaiError(503, 'server_error', 'overloaded', { 'retry-after-ms': '1' }));
    const { events, outcome } = await run(undefined, { maxRetries: 1 });
    expect(server.requests).toHaveLength(2);
    expect(events).toEqual([{ type: 'api_unavailable', provider: 'codex', status: 503, error: '503 server_error: overloaded' }]);
    expect(outcome.status).toBe('completed');
  });

  it('reports api_unavailable when nothing listens', async () => {
    const { events, emit } = recorder();
    const outcome = await createCodexProvider({ secrets: createSecretStore({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${await closedOrigin()}/v1` }), maxRetries: 0 })
      .run(modelContext(codexAgent()), emit);
    expect(outcome.status).toBe('completed');
    expect(events).toEqual([{ type: 'api_unavailable', provider: 'codex', error: expect.stringMatching(/ECONNREFUSED/) }]);
  });

  it('never reads process.env: with no secrets given it is api_unavailable, whatever the environment holds', async () => {
    process.env.OPENAI_API_KEY = KEY;
    process.env.OPENAI_BASE_URL = server.baseURL;
    try {
      const { events, emit } = recorder();
      await createCodexProvider({ maxRetries: 0 }).run(modelContext(codexAgent()), emit);
      expect(events).toEqual([{ type: 'api_unavailable', provider: 'codex', error: 'OPENAI_API_KEY is not set' }]);
      expect(server.requests).toHaveLength(0);
    } finally {
      delete process.env.OPENAI_API_KEY;
      delete process.env.OPENAI_BASE_URL;
    }
  });

  it('reports api_unavailable without a request when there is no key', async () => {
    const { events, emit } = recorder();
    const outcome = await createCodexProvider({ secrets: createSecretStore({ OPENAI_BASE_URL: server.baseURL }) }).run(modelContext(codexAgent()), emit);
    expect(outcome).toEqual({ status: 'completed' });
    expect(events).toEqual([{ type: 'api_unavailable', provider: 'codex', error: 'OPENAI_API_KEY is not set' }]);
    expect(server.requests).toHaveLength(0);
  });

  it('fails with a provider_error on a 404 (unknown model)', async () => {
    server.enqueue(openaiError(404, 'invalid_request_error', 'The model `gpt-nope` does not exist'));
    const { events, outcome } = await run(undefined, { maxRetries: 3 });
    expect(server.requests).toHaveLength(1);
    expect(events).toEqual([{ type: 'error', code: 'provider_error', status: 404, message: '404 invalid_request_error: The model `gpt-nope` does not exist' }]);
    expect(outcome.status).toBe('failed');
  });

  it('stops after maxTurns', async () => {
    server.otherwise(openaiToolCalls([{ name: 'echo', arguments: { text: 'more' } }]));
    const { events, outcome } = await run(modelContext(codexAgent('maxTurns: 2'), { toolbox: echoToolbox() }));
    expect(server.requests).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'max_turns' });
    expect(outcome.status).toBe('failed');
  });

  it('aborts a request in flight and returns promptly', async () => {
    server.otherwise('hang');
    const controller = new AbortController();
    const { emit } = recorder();
    const running = createCodexProvider({ secrets: createSecretStore(env()), maxRetries: 3 }).run(modelContext(codexAgent(), { signal: controller.signal }), emit);
    await waitFor(() => server.requests.length === 1, 5000, 'the request to arrive');
    const abortedAt = Date.now();
    controller.abort('cancelled');
    expect(await running).toMatchObject({ status: 'failed', error: 'aborted' });
    expect(Date.now() - abortedAt).toBeLessThan(5000); // not the 30 s retry or the hang; 1 s was a bet on an idle machine
    expect(server.requests).toHaveLength(1);
  });

  it('aborts while the SDK waits to retry a 429, and returns promptly', async () => {
    server.otherwise(openaiError(429, 'rate_limit_exceeded', 'slow down', { 'retry-after-ms': '30000' }));
    const controller = new AbortController();
    const log = memoryLogger();
    const { events, emit } = recorder();
    const running = createCodexProvider({ secrets: createSecretStore(env()), maxRetries: 3 }).run(modelContext(codexAgent(), { signal: controller.signal, log }), emit);
    // The SDK logs the retry just before it starts waiting.
    await waitFor(() => log.lines.some((l) => /429.*retrying/.test(l.msg ?? '')), 5000, 'the SDK to wait for a retry');
    const abortedAt = Date.now();
    controller.abort('timeout');
    expect(await running).toMatchObject({ status: 'failed', error: 'aborted' });
    expect(Date.now() - abortedAt).toBeLessThan(5000); // not the 30 s retry or the hang; 1 s was a bet on an idle machine
    expect(events).toEqual([]);
  });
});
