import type { EmitEvent, ProviderOutcome, RunContext } from '../../provider.js';
import { NO_TOOLS } from '../../tools/tool.js';
import type { ToolReply, ToolRequest, ToolSpec } from '../../tools/tool.js';
import type { ApiFailure } from './api-errors.js';
import { DEFAULT_TASK } from './model-options.js';
import { REPORT_TOOLS, REPORT_TOOL_NAMES, handleReportCall } from './report-tools.js';
import type { ReportState } from './report-tools.js';
import { findingsInText } from './text-findings.js';

/** A tool call the model asked for; `inputError` is set when its arguments could not even be read (bad JSON). */
export type ModelToolCall = ToolRequest & { inputError?: string };

/** One model reply in provider-neutral terms. */
export interface ModelTurn {
  /** The assistant's text blocks, in order. */
  texts: string[];
  /** The tools it asked for, in order; empty when it ended its turn. */
  toolCalls: ModelToolCall[];
  usage: { input: number; output: number };
  /** The API's stop or finish reason, for the log. */
  stopReason: string;
}

/** A tool call and the reply that goes back to the model for it. */
export interface ToolOutcome {
  call: ModelToolCall;
  reply: ToolReply;
}

/** One conversation with a model API; it keeps the message history in the API's own shape. */
export interface ModelSession {
  /** Sends the conversation so far, appends the model's reply to it and returns it; rejects with the SDK's error. */
  send(signal: AbortSignal): Promise<ModelTurn>;
  /** Appends the replies to the last turn's tool calls, in the same order. */
  addToolResults(results: ToolOutcome[]): void;
}

/** What a conversation starts from. */
export interface SessionSetup {
  system: string;
  prompt: string;
  tools: ToolSpec[];
}

/** The part of a provider that speaks one API: opens conversations and says what its errors mean. */
export interface ModelBackend {
  provider: 'claude' | 'codex';
  open(setup: SessionSetup): ModelSession;
  classify(err: unknown, signal: AbortSignal): ApiFailure;
}

/**
 * The turn loop of the claude and codex providers (SPEC §4.1): sends system prompt, task and tools; relays the
 * model's text (and findings written as JSON lines in it); runs the tools it asks for in order — report_* here, the
 * rest through the run's toolbox — and sends their results back, until the model ends its turn or `maxTurns` model
 * calls were made. An unreachable API ends the run `completed` with `api_unavailable`.
 */
export async function runToolLoop(ctx: RunContext, emit: EmitEvent, backend: ModelBackend): Promise<ProviderOutcome> {
  const usage = { input_tokens: 0, output_tokens: 0 };
  const aborted = (): ProviderOutcome => ({ status: 'failed', error: 'aborted', usage });
  if (ctx.signal.aborted) return aborted();

  const toolbox = ctx.toolbox ?? NO_TOOLS;
  const hostTools = toolbox.specs.filter((spec) => !REPORT_TOOL_NAMES.has(spec.name));
  const session = backend.open({
    system: ctx.system?.trim() ? ctx.system : ctx.agent.body,
    prompt: ctx.prompt.trim() || DEFAULT_TASK,
    tools: [...hostTools, ...REPORT_TOOLS],
  });
  const reportState: ReportState = { resultReported: false };
  const maxTurns = ctx.agent.maxTurns;

  for (let turn = 1; ; turn++) {
    let reply: ModelTurn;
    try {
      reply = await untilAborted(session.send(ctx.signal), ctx.signal);
    } catch (err) {
      const failure = backend.classify(err, ctx.signal);
      switch (failure.kind) {
        case 'aborted':
          return aborted();
        case 'unavailable':
          ctx.log.warn({ provider: backend.provider, status: failure.status, error: failure.message, turn }, 'model API unavailable');
          await emit({ type: 'api_unavailable', provider: backend.provider, ...(failure.status !== undefined && { status: failure.status }), error: failure.message });
          return { status: 'completed', usage };
        case 'request':
          ctx.log.error({ provider: backend.provider, status: failure.status, error: failure.message, turn }, 'model request failed');
          await emit({ type: 'error', code: 'provider_error', ...(failure.status !== undefined && { status: failure.status }), message: failure.message });
          return { status: 'failed', error: `${backend.provider}: ${failure.message}`, usage };
      }
    }
    usage.input_tokens += reply.usage.input;
    usage.output_tokens += reply.usage.output;

    for (const text of reply.texts) {
      if (text.trim() === '') continue;
      await emit({ type: 'text', text });
      for (const finding of findingsInText(text)) await emit({ type: 'finding', ...finding });
    }
    if (reply.toolCalls.length === 0) return { status: 'completed', usage };

    const results: ToolOutcome[] = [];
    for (const call of reply.toolCalls) {
      if (ctx.signal.aborted) return aborted();
      results.push({ call, reply: await runTool(call, ctx, emit, reportState) });
    }
    if (ctx.signal.aborted) return aborted();
    if (turn >= maxTurns) {
      const message = `stopped after ${turn} turns (maxTurns ${maxTurns}): the model still wanted to call tools`;
      await emit({ type: 'error', code: 'max_turns', message });
      return { status: 'failed', error: message, usage };
    }
    session.addToolResults(results);
  }
}

/** Runs one tool call: bad arguments are refused, report_* is handled here, the rest goes to the toolbox. */
async function runTool(call: ModelToolCall, ctx: RunContext, emit: EmitEvent, reportState: ReportState): Promise<ToolReply> {
  const request: ToolRequest = { id: call.id, name: call.name, input: call.input };
  if (call.inputError !== undefined) {
    const content = `tool call not run: ${call.inputError}`;
    await emit({ type: 'tool_call', id: call.id, tool: call.name, input: call.input });
    await emit({ type: 'tool_result', id: call.id, tool: call.name, output: content, is_error: true });
    return { content, isError: true };
  }
  return (await handleReportCall(request, reportState, emit)) ?? (await (ctx.toolbox ?? NO_TOOLS).call(request, ctx.signal, emit));
}

/**
 * Settles with `work`, or rejects as soon as `signal` aborts: the openai SDK's wait before a retry (up to a minute of
 * retry-after) does not listen to the signal, and a cancelled run must not wait it out.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
