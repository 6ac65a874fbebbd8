import Anthropic, { APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { ContentBlockParam, Message, MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import type { AgentSpec } from '../../src/specs/agent-spec.js';
import type { EmitEvent, Provider, ProviderOutcome, RunContext } from '../provider.js';
import { createSecretStore } from '../secrets/secret-store.js';
import { classifyApiError } from './llm/api-errors.js';
import { DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT_MS, MAX_TOKENS_BY_EFFORT, SDK_LOG_LEVEL, sdkLogger } from './llm/model-options.js';
import type { ModelProviderOptions } from './llm/model-options.js';
import { runToolLoop } from './llm/tool-loop.js';
import type { ModelBackend, ModelSession, ModelTurn, SessionSetup, ToolOutcome } from './llm/tool-loop.js';

/**
 * Model used when the agent names none. Not `claude-sonnet-4-5`: the SDK marks it deprecated and prints a warning
 * to the console on every request for it.
 */
export const DEFAULT_CLAUDE_MODEL = 'claude-sonnet-4-6';

const DEFAULT_BASE_URL = 'https://api.anthropic.com';

/**
 * The `claude` provider (SPEC §4.1): the tool-use loop on the Anthropic Messages API. Key from `ANTHROPIC_API_KEY`,
 * base URL from `ANTHROPIC_BASE_URL`, both from `options.secrets` (taken at start; never read from process.env). Effort sets `max_tokens` (low 2048, medium 8192,
 * high 16384). Without a key the run emits `api_unavailable` and completes without a request.
 */
export function createClaudeProvider(options: ModelProviderOptions = {}): Provider {
  const secrets = options.secrets ?? createSecretStore();
  return {
    async run(ctx: RunContext, emit: EmitEvent): Promise<ProviderOutcome> {
      const apiKey = secrets.get('ANTHROPIC_API_KEY');
      if (!apiKey) {
        await emit({ type: 'api_unavailable', provider: 'claude', error: 'ANTHROPIC_API_KEY is not set' });
        return { status: 'completed' };
      }
      const client = new Anthropic({
        apiKey,
        // Always explicit, so the SDK never falls back to process.env (or profile files) behind the secret store.
        baseURL: secrets.get('ANTHROPIC_BASE_URL') || DEFAULT_BASE_URL,
        webhookKey: null,
        maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
        timeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        logger: sdkLogger(ctx.log, 'anthropic'),
        logLevel: SDK_LOG_LEVEL,
        openTelemetry: false,
      });
      return runToolLoop(ctx, emit, claudeBackend(client, ctx.agent, apiKey));
    },
  };
}

function claudeBackend(client: Anthropic, agent: AgentSpec, apiKey: string): ModelBackend {
  return {
    provider: 'claude',
    open: (setup) => claudeSession(client, agent, setup),
    classify: (err, signal) => classifyApiError(err, signal, { APIError, APIUserAbortError, APIConnectionError }, apiKey),
  };
}

function claudeSession(client: Anthropic, agent: AgentSpec, setup: SessionSetup): ModelSession {
  const model = agent.model ?? DEFAULT_CLAUDE_MODEL;
  const tools: Tool[] = setup.tools.map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: { ...t.inputSchema, type: 'object' },
  }));
  const messages: MessageParam[] = [{ role: 'user', content: setup.prompt }];
  return {
    async send(signal) {
      const message = await client.messages.create(
        { model, max_tokens: MAX_TOKENS_BY_EFFORT[agent.effort], system: setup.system, messages, tools },
        { signal },
      );
      const turn = toTurn(message);
      messages.push({ role: 'assistant', content: assistantContent(message) });
      return turn;
    },
    addToolResults(results: ToolOutcome[]) {
      messages.push({
        role: 'user',
        content: results.map(({ call, reply }) => ({
          type: 'tool_result' as const,
          tool_use_id: call.id,
          // The API refuses an empty error result.
          content: reply.content || '(no output)',
          is_error: reply.isError,
        })),
      });
    },
  };
}

/** The reply's text blocks and tool calls; other block types (server tools, thinking) are not used by this loop. */
function toTurn(message: Message): ModelTurn {
  const turn: ModelTurn = {
    texts: [],
    toolCalls: [],
    usage: { input: message.usage?.input_tokens ?? 0, output: message.usage?.output_tokens ?? 0 },
    stopReason: message.stop_reason ?? 'unknown',
  };
  for (const block of message.content ?? []) {
    if (block.type === 'text') turn.texts.push(block.text);
    else if (block.type === 'tool_use') turn.toolCalls.push({ id: block.id, name: block.name, input: block.input });
  }
  return turn;
}

/** The assistant turn as it goes back into the history: its text and tool_use blocks (it has at least one tool_use). */
function assistantContent(message: Message): ContentBlockParam[] {
  const content: ContentBlockParam[] = [];
  for (const block of message.content ?? []) {
    if (block.type === 'text') content.push({ type: 'text', text: block.text });
    else if (block.type === 'tool_use') content.push({ type: 'tool_use', id: block.id, name: block.name, input: block.input });
  }
  return content;
}
