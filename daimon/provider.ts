import type { EventBody } from '../src/protocol/event.js';
import type { AgentSpec } from '../src/specs/agent-spec.js';
import type { ChildEnv } from './run/child-env.js';
import type { RunScope } from './run/containment.js';
import type { Toolbox } from './tools/tool.js';

/** The logging a provider needs; a pino logger fits. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Everything a provider gets for one run. */
export interface RunContext {
  runId: string;
  hostname: string;
  agent: AgentSpec;
  /** The task of this run: the dispatch's prompt, or the default task of a tick (the first user message). */
  prompt: string;
  /** The agent's body rendered over host, time, inputs and collector outputs: the system prompt. Empty when not rendered. */
  system?: string;
  /** Collector outputs of this run, for providers that hand them on (custom) — already fenced as data in `system`/`prompt`. */
  collectors?: CollectorOutput[];
  /** The host tools this run may call (default: none). */
  toolbox?: Toolbox;
  inputs: Record<string, unknown>;
  /** Aborted on cancel or timeout: stop promptly, then resolve. */
  signal: AbortSignal;
  log: Logger;
  /** Where the run's processes are started; every one of them ends when the run does (default: a scope of the call's own). */
  processes?: RunScope;
  /** The environment of the run's processes, built from the allowlist (default: the allowlist over the daimon's environment). */
  env?: ChildEnv;
}

/** What one collector produced (SPEC §4, `collectors`). */
export interface CollectorOutput {
  name: string;
  /** stdout, capped; empty when skipped or failed before output. */
  output: string;
  exitCode: number | null;
  durationMs: number;
  truncated: boolean;
  /** The collector exited 77 (or its command is missing): nothing to collect on this host. */
  skipped: boolean;
  /** Why it was skipped (its last stderr line). */
  skipReason?: string;
  /** Why it failed (timeout, exit code, denied by policy); undefined when it succeeded or was skipped. */
  error?: string;
}

/** Token usage a provider reports, in the names of `run_end.usage`. */
export interface ProviderUsage {
  input_tokens?: number;
  output_tokens?: number;
}

/** How the provider's part of a run ended; the executor turns it into `run_end`. */
export type ProviderOutcome = { status: 'completed' | 'failed'; error?: string; usage?: ProviderUsage };

/** Function a provider hands each event body to; awaiting it is the backpressure (the spool may be full). */
export type EmitEvent = (body: EventBody) => Promise<void>;

/**
 * A way of driving an agent (claude, codex, custom). `run` emits the run's events in order, awaiting
 * each `emit`, and resolves once it has emitted its last event. It never emits `run_start`/`run_end`:
 * the executor does.
 */
export interface Provider {
  run(ctx: RunContext, emit: EmitEvent): Promise<ProviderOutcome>;
}
