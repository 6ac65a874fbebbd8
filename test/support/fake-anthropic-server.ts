import { startScriptedServer } from './scripted-http-server.js';
import type { ScriptedReply, ScriptedServer } from './scripted-http-server.js';

/** The parts of a Messages API request body the tests look at. */
export interface AnthropicRequestBody {
  model: string;
  max_tokens: number;
  system?: string;
  messages: { role: 'user' | 'assistant'; content: string | AnthropicBlock[] }[];
  tools?: { name: string; description?: string; input_schema: Record<string, unknown> }[];
}

/** A content block as sent or received. */
export type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean };

/** A fake Anthropic API: `POST /v1/messages`; `baseURL` is what the SDK's `baseURL` (ANTHROPIC_BASE_URL) takes. */
export interface FakeAnthropic extends ScriptedServer {
  baseURL: string;
  /** The body of the `i`-th request. */
  body(i: number): AnthropicRequestBody;
}

/** Starts a fake Anthropic Messages API on 127.0.0.1. */
export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const server = await startScriptedServer('/v1/messages', (status, message) => errorBody(status === 404 ? 'not_found_error' : 'invalid_request_error', message));
  return {
    ...server,
    baseURL: server.origin,
    body: (i) => {
      const request = server.requests[i];
      if (!request) throw new Error(`no request ${i}: the server got ${server.requests.length}`);
      return request.body as AnthropicRequestBody;
    },
  };
}

/** Token usage of a scripted reply. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

let nextId = 1;

/** A message reply with these blocks. */
export function claudeMessage(content: AnthropicBlock[], stopReason: string, usage: Usage = { input_tokens: 10, output_tokens: 5 }): ScriptedReply {
  return {
    body: {
      id: `msg_${nextId++}`,
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage,
    },
  };
}

/** A plain answer that ends the turn. */
export function claudeText(text: string, usage?: Usage): ScriptedReply {
  return claudeMessage([{ type: 'text', text }], 'end_turn', usage);
}

/** A reply asking for tools (with optional text before the calls). */
export function claudeToolUse(calls: { id?: string; name: string; input: unknown }[], opts: { text?: string; usage?: Usage } = {}): ScriptedReply {
  const blocks: AnthropicBlock[] = calls.map((c) => ({ type: 'tool_use', id: c.id ?? `toolu_${nextId++}`, name: c.name, input: c.input }));
  return claudeMessage(opts.text ? [{ type: 'text', text: opts.text }, ...blocks] : blocks, 'tool_use', opts.usage);
}

/** An error reply in the API's shape: `{type:'error', error:{type, message}}`. */
export function claudeError(status: number, type: string, message: string, headers?: Record<string, string>): ScriptedReply {
  return { status, headers, body: errorBody(type, message) };
}

function errorBody(type: string, message: string): unknown {
  return { type: 'error', error: { type, message } };
}
