import type { EventBody, RunEndStatus } from '../src/protocol/event.js';
import { formatDuration } from '../src/protocol/duration.js';
import type { AgentSpec } from '../src/specs/agent-spec.js';
import type { DaimonCounters } from './metrics/daimon-counters.js';
import type { EmitEvent, Logger, Provider, ProviderOutcome } from './provider.js';
import type { Containment, RunScope } from './run/containment.js';
import { sharedContainment } from './run/detect-containment.js';
import { RESERVED_EVENT_TYPES } from './run/output-events.js';

/** What one run needs: the agent, the provider that drives it, where its events go, and its limits. */
export interface ExecuteRunOptions {
  runId: string;
  hostname: string;
  agent: AgentSpec;
  prompt: string;
  inputs: Record<string, unknown>;
  /** The run is aborted with status `timeout` after this long. */
  timeoutMs: number;
  /** Aborting it cancels the run (status `cancelled`). */
  signal: AbortSignal;
  provider: Provider;
  /** Receives event bodies in order; the daimon's relay stamps them. Awaited: backpressure. */
  emit: EmitEvent;
  log: Logger;
  now?: () => number;
  /** The scheduled tick this run is: framed by `tick_start` after `run_start` and `tick_done` before `run_end`. */
  tick?: { tick: number; scheduledAt: number };
  /** How long to wait for a provider to wind down after an abort before ending the run without it (default 10 s). */
  abortGraceMs?: number;
  /** Keeps the run's processes together; whatever of them is left when the run ends is killed (default: this host's, detected once). */
  containment?: Containment;
  /** Where runs and their findings are counted (metrics). */
  counters?: Pick<DaimonCounters, 'runsStarted' | 'runsActive' | 'runsFinished' | 'findings'>;
}

/**
 * Executes one run: emits `run_start`, runs the provider under a signal that combines cancel and
 * timeout, kills every process of the run that is still there (its scope), then emits exactly one
 * `run_end` (status, duration, finding count, error, usage). Resolves with the final status; rejects
 * only when `emit` itself fails.
 */
export async function executeRun(opts: ExecuteRunOptions): Promise<RunEndStatus> {
  const counters = opts.counters;
  if (!counters) return runToEnd(opts);
  counters.runsStarted++;
  counters.runsActive++;
  try {
    const status = await runToEnd(opts);
    counters.runsFinished[status]++;
    return status;
  } finally {
    counters.runsActive--;
  }
}

async function runToEnd(opts: ExecuteRunOptions): Promise<RunEndStatus> {
  const now = opts.now ?? Date.now;
  const started = now();
  const log = opts.log;
  let findings = 0;
  let ended = false;
  const emit: EmitEvent = async (body) => {
    if (ended) {
      // A provider that resolved (or was abandoned) early must not write after run_end.
      log.warn({ type: body.type }, 'event after run_end dropped');
      return;
    }
    if (body.type === 'finding') {
      findings++;
      if (opts.counters) countFinding(opts.counters.findings, body.severity);
    }
    // run_start/run_end are the executor's alone; a provider's own stays in the transcript under another name.
    await opts.emit(RESERVED_EVENT_TYPES.has(body.type) ? { ...body, type: `provider_${body.type}` } : body);
  };

  // The timeout the run is under, so the CP's own deadline for it follows the host's; a tick says so in its
  // run_start: the CP creates no run from events except a tick's announced start.
  await opts.emit({
    type: 'run_start', agent: opts.agent.name, version: opts.agent.version, prompt: opts.prompt, timeout_ms: opts.timeoutMs,
    ...(opts.tick && { trigger: 'tick' }),
  });
  if (opts.tick) await opts.emit({ type: 'tick_start', tick: opts.tick.tick, scheduled_at: opts.tick.scheduledAt });

  const abort = new AbortController();
  let reason: 'timeout' | 'cancelled' | undefined;
  const stop = (why: 'timeout' | 'cancelled'): void => {
    if (reason) return;
    reason = why;
    abort.abort(why);
  };
  const onCancel = (): void => stop('cancelled');
  opts.signal.addEventListener('abort', onCancel, { once: true });
  if (opts.signal.aborted) stop('cancelled');
  const timer = setTimeout(() => stop('timeout'), Math.max(0, opts.timeoutMs));

  let outcome: ProviderOutcome;
  let processes: RunScope | undefined;
  try {
    if (reason) {
      outcome = { status: 'failed', error: 'cancelled before start' };
    } else {
      processes = (opts.containment ?? sharedContainment()).openRun(opts.runId);
      outcome = await settleAfterAbort(
        opts.provider.run(
          { runId: opts.runId, hostname: opts.hostname, agent: opts.agent, prompt: opts.prompt, inputs: opts.inputs, signal: abort.signal, log, processes },
          emit,
        ),
        abort.signal,
        opts.abortGraceMs ?? 10_000,
      );
    }
  } catch (err) {
    outcome = { status: 'failed', error: processes ? errorText(err) : `cannot contain the run's processes: ${errorText(err)}` };
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onCancel);
  }
  // Every process the run started ends with it, whatever the provider did about them.
  await processes?.close().catch((err: unknown) => log.error({ err }, 'could not end every process of the run'));

  const status: RunEndStatus = reason ?? outcome.status;
  let error = outcome.error;
  if (reason === 'timeout') {
    error = `run exceeded its timeout of ${formatDuration(opts.timeoutMs)}`;
    await emit({ type: 'error', code: 'timeout', message: error });
  } else if (reason === 'cancelled') {
    const why: unknown = opts.signal.reason;
    error = typeof why === 'string' ? why : why instanceof Error && why.name !== 'AbortError' ? why.message : 'cancelled';
  }
  ended = true;
  if (opts.tick) await opts.emit({ type: 'tick_done', tick: opts.tick.tick, status, findings, duration_ms: Math.max(0, now() - started) });
  const runEnd: EventBody = {
    type: 'run_end',
    status,
    duration_ms: Math.max(0, now() - started),
    findings,
    ...(error !== undefined && status !== 'completed' && { error }),
    ...(outcome.usage && { usage: outcome.usage }),
  };
  await opts.emit(runEnd);
  (status === 'completed' ? log.info : log.warn).call(log, { status, duration_ms: runEnd.duration_ms, findings, error }, 'run ended');
  return status;
}

/** Counts a finding under its severity, written in any case as findings may be; one the CP would refuse is not counted. */
function countFinding(bySeverity: Record<string, number>, severity: unknown): void {
  const key = typeof severity === 'string' ? severity.toUpperCase() : '';
  if (Object.hasOwn(bySeverity, key)) bySeverity[key] = (bySeverity[key] ?? 0) + 1;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves with the provider's outcome, or, once `signal` aborted, after `graceMs` at the latest. */
async function settleAfterAbort(run: Promise<ProviderOutcome>, signal: AbortSignal, graceMs: number): Promise<ProviderOutcome> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const abandoned = new Promise<ProviderOutcome>((resolve) => {
    onAbort = () => {
      timer = setTimeout(() => resolve({ status: 'failed', error: `provider did not stop within ${formatDuration(graceMs)}` }), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([run, abandoned]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
