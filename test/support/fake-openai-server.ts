import { startScriptedServer } from './scripted-http-server.js';
import type { ScriptedReply, ScriptedServer } from './scripted-http-server.js';

/** The parts of a Chat Completions request body the tests look at. */
export interface OpenAIRequestBody {
  model: string;
  max_completion_tokens?: number;
  reasoning_effort?: string;
  messages: OpenAIMessage[];
  tools?: { type: 'function'; function: { name: string; description?: string; parameters: Record<string, unknown> } }[];
}

/** A chat message as sent. */
export type OpenAIMessage =
  | { role: 'system' | 'developer' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: OpenAIToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** A function tool call as received and sent back. */
export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A fake OpenAI API: `POST /v1/chat/completions`; `baseURL` is what the SDK's `baseURL` (OPENAI_BASE_URL) takes. */
export interface FakeOpenAI extends ScriptedServer {
  baseURL: string;
  /** The body of the `i`-th request. */
  body(i: number): OpenAIRequestBody;
}

/** Starts a fake OpenAI Chat Completions API on 127.0.0.1. */
export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const server = await startScriptedServer('/v1/chat/completions', (_status, message) => errorBody('invalid_request_error', message));
  return {
    ...server,
    baseURL: `${server.origin}/v1`,
    body: (i) => {
      const request = server.requests[i];
      if (!request) throw new Error(`no request ${i}: the server got ${server.requests.length}`);
      return request.body as OpenAIRequestBody;
    },
  };
}

/** Token usage of a scripted reply. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

let nextId = 1;

/** A chat.completion reply with one choice. */
export function openaiCompletion(
  message: { content: string | null; tool_calls?: OpenAIToolCall[] },
  finishReason: string,
  usage: Usage = { prompt_tokens: 10, completion_tokens: 5 },
): ScriptedReply {
  return {
    body: {
      id: `chatcmpl-${nextId++}`,
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-test',
      choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, finish_reason: finishReason, logprobs: null }],
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
    },
  };
}

/** A plain answer that ends the turn. */
export function openaiText(text: string, usage?: Usage): ScriptedReply {
  return openaiCompletion({ content: text }, 'stop', usage);
}

/** A reply asking for tools; `arguments` is sent as given when it is a string (to script bad JSON), else JSON-encoded. */
export function openaiToolCalls(calls: { id?: string; name: string; arguments: unknown }[], opts: { text?: string; usage?: Usage } = {}): ScriptedReply {
  const toolCalls: OpenAIToolCall[] = calls.map((c) => ({
    id: c.id ?? `call_${nextId++}`,
    type: 'function',
    function: { name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments) },
  }));
  return openaiCompletion({ content: opts.text ?? null, tool_calls: toolCalls }, 'tool_calls', opts.usage);
}

/** An error reply in the API's shape: `{error:{message, type, param, code}}`. */
export function openaiError(status: number, type: string, message: string, headers?: Record<string, string>): ScriptedReply {
  return { status, headers, body: errorBody(type, message) };
}

function errorBody(type: string, message: string): unknown {
  return { error: { message, type, param: null, code: null } };
}
