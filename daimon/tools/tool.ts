import type { EmitEvent } from '../provider.js';

/** A tool as offered to a model: name, description and a JSON Schema of its input. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema (type: object) of the tool's input. */
  inputSchema: Record<string, unknown>;
}

/** One call the model asked for. `id` is the provider's tool-use id. */
export interface ToolRequest {
  id: string;
  name: string;
  input: unknown;
}

/** What goes back to the model for one call. `isError` is set for denials, bad input, failures and timeouts. */
export interface ToolReply {
  content: string;
  isError: boolean;
}

/**
 * The host tools of one run, already narrowed by the agent's `tools`, its `rbac` and the host policy.
 * `call` never throws: it emits `tool_call`, then `action_denied` or `tool_result`, and returns what the model is told.
 */
export interface Toolbox {
  /** The tools offered to the model (the agent's listed tools this build has, minus those the policy denies). */
  specs: ToolSpec[];
  call(request: ToolRequest, signal: AbortSignal, emit: EmitEvent): Promise<ToolReply>;
}

/** A toolbox that offers nothing and refuses everything (agents without tools, custom providers). */
export const NO_TOOLS: Toolbox = {
  specs: [],
  async call(request, _signal, emit) {
    const reason = `tool ${request.name} is not available to this agent`;
    await emit({ type: 'tool_call', id: request.id, tool: request.name, input: request.input });
    await emit({ type: 'action_denied', id: request.id, tool: request.name, input: request.input, by: 'agent', reason });
    return { content: `denied: ${reason}`, isError: true };
  },
};
