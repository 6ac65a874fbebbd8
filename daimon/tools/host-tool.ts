import { z } from 'zod';
import type { ChildEnv } from '../run/child-env.js';
import type { RunScope } from '../run/containment.js';
import type { ToolSpec } from './tool.js';

/** The host tools this build implements. */
export const HOST_TOOL_NAMES = ['bash', 'read_file', 'list_files', 'search'] as const;
/** The name of a host tool. */
export type HostToolName = (typeof HOST_TOOL_NAMES)[number];

/** What one tool call produced: the text for the model, whether it failed, whether a cap or a timeout cut it. */
export interface ToolOutcome {
  content: string;
  isError: boolean;
  truncated: boolean;
}

/** Why a call was stopped before it finished. */
export type StopReason = 'timeout' | 'cancelled';

/** What a tool gets for one call. */
export interface ToolContext {
  /** Aborted on the call's timeout or when the run is cancelled. */
  signal: AbortSignal;
  /** Why `signal` fired, once it has. */
  stopReason(): StopReason | undefined;
  /** The call's timeout, for messages. */
  timeoutMs: number;
  cwd: string;
  /** The run's allowlisted environment, for commands. */
  env: ChildEnv;
  /** The run's process scope (default: one of the call's own). */
  processes?: RunScope;
  killGraceMs: number;
  /** For a path tool: the path the gate allowed (its real path when it exists). */
  path: string;
  /** Whether an entry met while walking a tree is denied for this tool (left out of the result). */
  isHidden(path: string): Promise<boolean>;
}

/** One host tool: its spec for the model, its input schema, and how it runs. */
export interface HostTool<I> {
  spec: ToolSpec;
  input: z.ZodType<I>;
  /** The value the gate checks: the command for bash, the path (before resolving) for path tools. */
  subject(input: I): string;
  /** A per-call timeout the input asks for (bash's `timeout_s`), in milliseconds. */
  timeoutMs?(input: I): number | undefined;
  run(input: I, ctx: ToolContext): Promise<ToolOutcome>;
}

/** Builds a tool's spec, deriving the JSON Schema of its input from the zod schema so the two cannot drift. */
export function toolSpec(name: HostToolName, description: string, input: z.ZodType): ToolSpec {
  const schema = z.toJSONSchema(input, { io: 'input' }) as Record<string, unknown>;
  delete schema.$schema;
  return { name, description, inputSchema: schema };
}

/** The note for a call that was stopped, e.g. `[timed out after 30 s]`. */
export function stopNote(reason: StopReason, timeoutMs: number): string {
  return reason === 'timeout' ? `[timed out after ${formatSeconds(timeoutMs)}]` : '[cancelled]';
}

/** The outcome of a call stopped by its timeout or a cancel, keeping any partial output before the note. */
export function stoppedOutcome(ctx: ToolContext, partial = ''): ToolOutcome {
  const note = stopNote(ctx.stopReason() ?? 'cancelled', ctx.timeoutMs);
  return { content: partial ? `${partial}\n${note}` : note, isError: true, truncated: false };
}

/** `1500` → `1.5 s`. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** Rejects with the signal's reason once it aborts (for racing work that cannot itself be aborted). */
export function whenAborted(signal: AbortSignal): { promise: Promise<never>; dispose(): void } {
  let onAbort = (): void => {};
  const promise = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new Error('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => {});
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/** Runs `work`, giving up (rejecting) as soon as `signal` aborts. */
export async function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = whenAborted(signal);
  try {
    return await Promise.race([work, aborted.promise]);
  } finally {
    aborted.dispose();
  }
}
