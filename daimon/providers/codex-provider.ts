import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionAssistantMessageParam,
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import type { AgentSpec } from '../../src/specs/agent-spec.js';
import type { EmitEvent, Provider, ProviderOutcome, RunContext } from '../provider.js';
import { createSecretStore } from '../secrets/secret-store.js';
import { classifyApiError } from './llm/api-errors.js';
import { DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT_MS, MAX_TOKENS_BY_EFFORT, SDK_LOG_LEVEL, sdkLogger } from './llm/model-options.js';
import type { ModelProviderOptions } from './llm/model-options.js';
import { runToolLoop } from './llm/tool-loop.js';
import type { ModelBackend, ModelSession, ModelToolCall, ModelTurn, SessionSetup, ToolOutcome } from './llm/tool-loop.js';

/** Model used when the agent names none. */
export const DEFAULT_CODEX_MODEL = 'gpt-5';

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Reasoning models: they take `reasoning_effort`; other chat models refuse it. */
const REASONING_MODEL = /^(o\d|gpt-5|codex)/;

/**
 * The `codex` provider (SPEC §4.1): the tool-use loop on the OpenAI Chat Completions API with function tools. Key
 * from `OPENAI_API_KEY`, base URL from `OPENAI_BASE_URL`, both from `options.secrets` (never process.env). Effort sets
 * `max_completion_tokens` (low 2048, medium 8192, high 16384) and, for reasoning models (o1…, gpt-5…, codex…),
 * `reasoning_effort` to the same word. Without a key the run emits `api_unavailable` and completes without a request.
 */
export function createCodexProvider(options: ModelProviderOptions = {}): Provider {
  const secrets = options.secrets ?? createSecretStore();
  return {
    async run(ctx: RunContext, emit: EmitEvent): Promise<ProviderOutcome> {
      const apiKey = secrets.get('OPENAI_API_KEY');
      if (!apiKey) {
        await emit({ type: 'api_unavailable', provider: 'codex', error: 'OPENAI_API_KEY is not set' });
        return { status: 'completed' };
      }
      const client = new OpenAI({
        apiKey,
        // Every credential and URL explicit, so the SDK reads nothing from process.env behind the secret store.
        baseURL: secrets.get('OPENAI_BASE_URL') || DEFAULT_BASE_URL,
        adminAPIKey: null,
        organization: secrets.get('OPENAI_ORG_ID') ?? null,
        project: secrets.get('OPENAI_PROJECT_ID') ?? null,
        webhookSecret: null,
        maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
        timeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        logger: sdkLogger(ctx.log, 'openai'),
        logLevel: SDK_LOG_LEVEL,
      });
      return runToolLoop(ctx, emit, codexBackend(client, ctx.agent, apiKey));
    },
  };
}

function codexBackend(client: OpenAI, agent: AgentSpec, apiKey: string): ModelBackend {
  return {
    provider: 'codex',
    open: (setup) => codexSession(client, agent, setup),
    classify: (err, signal) => classifyApiError(err, signal, { APIError, APIUserAbortError, APIConnectionError }, apiKey),
  };
}

function codexSession(client: OpenAI, agent: AgentSpec, setup: SessionSetup): ModelSession {
  const model = agent.model ?? DEFAULT_CODEX_MODEL;
  const reasoning = REASONING_MODEL.test(model.toLowerCase());
  const tools: ChatCompletionFunctionTool[] = setup.tools.map((t) => ({
    type: 'function',
    function: { name: t.name, description: t.description, parameters: t.inputSchema },
  }));
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: setup.system },
    { role: 'user', content: setup.prompt },
  ];
  return {
    async send(signal) {
      const completion = await client.chat.completions.create(
        {
          model,
          messages,
          tools,
          max_completion_tokens: MAX_TOKENS_BY_EFFORT[agent.effort],
          ...(reasoning && { reasoning_effort: agent.effort }),
        },
        { signal },
      );
      const { turn, assistant } = toTurn(completion);
      messages.push(assistant);
      return turn;
    },
    addToolResults(results: ToolOutcome[]) {
      for (const { call, reply } of results) {
        // Chat Completions has no error flag on a tool message: the content says it.
        const content = reply.content || '(no output)';
        messages.push({ role: 'tool', tool_call_id: call.id, content: reply.isError ? `error: ${content}` : content });
      }
    },
  };
}

/** The first choice as a turn, plus the assistant message as it goes back into the history. */
function toTurn(completion: ChatCompletion): { turn: ModelTurn; assistant: ChatCompletionAssistantMessageParam } {
  const choice = completion.choices?.[0];
  if (!choice) throw new Error('the API answered with no choices');
  const message = choice.message;
  const texts = [message.content, message.refusal ? `refusal: ${message.refusal}` : null].filter((t): t is string => !!t);
  const toolCalls = message.tool_calls ?? [];
  return {
    turn: {
      texts,
      toolCalls: toolCalls.map(toToolCall),
      usage: { input: completion.usage?.prompt_tokens ?? 0, output: completion.usage?.completion_tokens ?? 0 },
      stopReason: choice.finish_reason ?? 'unknown',
    },
    // The API refuses an empty tool_calls list.
    assistant: { role: 'assistant', content: message.content ?? null, ...(toolCalls.length > 0 && { tool_calls: toolCalls }) },
  };
}

/** A function call's JSON arguments parsed; a custom tool call's raw input passed on (the toolbox refuses it). */
function toToolCall(call: ChatCompletionMessageToolCall): ModelToolCall {
  if (call.type !== 'function') return { id: call.id, name: call.custom.name, input: call.custom.input };
  const raw = call.function.arguments;
  try {
    return { id: call.id, name: call.function.name, input: raw.trim() === '' ? {} : (JSON.parse(raw) as unknown) };
  } catch (err) {
    return { id: call.id, name: call.function.name, input: raw, inputError: `its arguments are not valid JSON (${(err as Error).message})` };
  }
}
