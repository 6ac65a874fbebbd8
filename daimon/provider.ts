import type { EventBody } from '../src/protocol/event.js';
import type { AgentSpec } from '../src/specs/agent-spec.js';

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
  /** The rendered prompt of this run. */
  prompt: string;
  inputs: Record<string, unknown>;
  /** Aborted on cancel or timeout: stop promptly, then resolve. */
  signal: AbortSignal;
  log: Logger;
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
