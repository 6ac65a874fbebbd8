import type { Logger } from 'pino';
import type { ErrorCode } from '../src/errors.js';
import type { AgentSpec } from '../src/specs/agent-spec.js';
import type { PipelineRunOptions } from './agent-run/agent-pipeline.js';
import type { EventRelay } from './event-relay.js';
import type { DaimonCounters } from './metrics/daimon-counters.js';
import type { Provider } from './provider.js';
import type { Containment } from './run/containment.js';
import { executeRun } from './run-executor.js';
import type { RunRegistry } from './run-registry.js';

/** One run to start: dispatched by the CP or ticked by the scheduler. */
export interface RunRequest {
  runId: string;
  agent: AgentSpec;
  prompt: string;
  inputs: Record<string, unknown>;
  timeoutMs: number;
  options?: PipelineRunOptions;
}

/** Starts runs and records refusals, each with a transcript that ends, through the daimon's relay and registry. */
export interface RunStarter {
  /** Writes the run's marker (throws when it cannot), then executes it; the promise settles when the run has ended. */
  start(request: RunRequest): { done: Promise<void> };
  /** A refused run still gets run_start, error and a failed run_end, so the CP's run record does not hang. */
  refuse(runId: string, agentName: string, prompt: string, code: ErrorCode, message: string): Promise<void>;
}

/** Builds the run starter over the daimon's parts. */
export function createRunStarter(deps: {
  hostname: string;
  relay: EventRelay;
  registry: RunRegistry;
  pipeline: (options?: PipelineRunOptions) => Provider;
  log: Logger;
  now: () => number;
  containment: Containment;
  /** Where runs and findings are counted (metrics). */
  counters?: DaimonCounters;
}): RunStarter {
  const { relay, registry, log } = deps;
  return {
    start(request) {
      const { runId, agent } = request;
      const controller = new AbortController();
      registry.begin({ run_id: runId, agent: agent.name, agent_version: agent.version, started_at: deps.now() }, controller);
      const runLog = log.child({ run_id: runId, agent: agent.name });
      const channel = relay.open({ runId, agent: agent.name, agentVersion: agent.version });
      const done = executeRun({
        runId, hostname: deps.hostname, agent, prompt: request.prompt, inputs: request.inputs, timeoutMs: request.timeoutMs,
        ...(request.options?.tick && { tick: request.options.tick }),
        signal: controller.signal, provider: deps.pipeline(request.options), emit: channel.emit, log: runLog, now: deps.now, containment: deps.containment,
        ...(deps.counters && { counters: deps.counters }),
      })
        .then(
          () => registry.finish(runId, true),
          (err: unknown) => {
            runLog.error({ err }, 'the run could not record its events; the next start ends it');
            registry.finish(runId, false);
          },
        )
        .finally(() => channel.close());
      return { done };
    },
    async refuse(runId, agentName, prompt, code, message) {
      const channel = relay.open({ runId, agent: agentName, agentVersion: '' }, { broadcasts: false });
      try {
        await channel.emit({ type: 'run_start', agent: agentName, version: '', prompt });
        await channel.emit({ type: 'error', code, message });
        await channel.emit({ type: 'run_end', status: 'failed', duration_ms: 0, findings: 0, error: `${code}: ${message}` });
      } finally {
        channel.close();
      }
    },
  };
}
