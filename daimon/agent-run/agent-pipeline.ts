import { join } from 'node:path';
import type { EventBody } from '../../src/protocol/event.js';
import type { AgentSpec } from '../../src/specs/agent-spec.js';
import { checkAgent, checkArgv, checkCommand } from '../../src/specs/gate.js';
import type { HostPolicy } from '../../src/specs/policy-spec.js';
import { resolveInputs } from '../../src/specs/resolve-inputs.js';
import { collectorResultEvent } from '../collectors/collector-event.js';
import { inputsToEnv } from '../collectors/input-env.js';
import { runCollectors } from '../collectors/run-collectors.js';
import { recordCollector } from '../metrics/daimon-counters.js';
import type { DaimonCounters } from '../metrics/daimon-counters.js';
import { createExecutableResolver } from '../policy/resolve-executable.js';
import { isCpDefinition } from '../resolve-dispatch.js';
import type { EmitEvent, Provider, ProviderOutcome, RunContext } from '../provider.js';
import { buildChildEnv, passedEnvNames, runEnv } from '../run/child-env.js';
import type { ChildEnv } from '../run/child-env.js';
import type { RunScope } from '../run/containment.js';
import { NO_TOOLS } from '../tools/tool.js';
import type { Toolbox } from '../tools/tool.js';
import { applyRules } from './apply-rules.js';
import type { AgentState } from './agent-state.js';
import { openAgentState } from './agent-state.js';
import { renderAgentPrompt } from './render-prompt.js';
import { runSuppressions } from './suppress-findings.js';
import { ensurePrivateDir } from '../../src/files/private-dir.js';

/** Which scheduled tick a run is (absent for dispatched and local runs). */
export interface TickContext {
  tick: number;
  scheduledAt: number;
}

/** What the pipeline needs from its host: the policy, where agent state lives, the model providers and the tools. */
export interface AgentPipelineDeps {
  policy: HostPolicy;
  /** Root of per-agent state (`<dir>/<agent>/rules.json`, `dedup.json`, `last-run.json`). */
  stateDir: string;
  /** The provider that drives an agent after its collectors and rules (custom, claude or codex). */
  providerFor: (agent: AgentSpec) => Provider;
  /** The host tools one run may call, running commands with the run's environment in the run's process scope. */
  toolboxFor: (agent: AgentSpec, policy: HostPolicy, run: { env: ChildEnv; processes?: RunScope }) => Toolbox;
  /**
   * The daimon's environment (default process.env). Processes of a run get only its allowlist (buildChildEnv) plus
   * the variables the agent's `env:` asks for and the policy's `pass_env:` passes; collectors also get the inputs.
   */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Where collector durations and failures are counted (metrics). */
  counters?: Pick<DaimonCounters, 'collectors'>;
}

/** Per-run extras the executor's RunContext does not carry. */
export interface PipelineRunOptions {
  tick?: TickContext;
}

/**
 * Builds the Provider that runs a whole agent (SPEC §4): host policy check, inputs, collectors in parallel
 * (`collector_result` each), deterministic rules (findings with no LLM), the prompt rendered with collector output
 * fenced as data, then the agent's model provider with its toolbox. Every finding of a scheduled tick — from rules or
 * the model — passes the host's local dedup. The executor around it emits `run_start`/`run_end` (and a tick's `tick_start`/`tick_done`)
 * and enforces the timeout.
 */
export function createAgentPipeline(deps: AgentPipelineDeps): (options?: PipelineRunOptions) => Provider {
  const now = deps.now ?? Date.now;
  const counters = deps.counters;
  const states = new Map<string, AgentState>();
  // Expired suppressions already named in a warning by this process.
  const warnedExpired = new Set<string>();
  const stateOf = (agent: string): AgentState => {
    let state = states.get(agent);
    if (!state) {
      const dir = join(deps.stateDir, agent);
      ensurePrivateDir(dir);
      state = openAgentState(dir, now);
      states.set(agent, state);
    }
    return state;
  };

  return (options = {}) => ({
    async run(ctx: RunContext, rawEmit: EmitEvent): Promise<ProviderOutcome> {
      const { agent } = ctx;
      const started = now();
      const state = stateOf(agent.name);
      // Monitors repeat themselves, so a scheduled run's finding already sent within dedupeTtl is not sent again. A
      // dispatched or local run reports everything it finds: someone asked now, and the CP groups repeats anyway.
      const dedup = options.tick ? state.dedup(agent.dedupeTtlMs) : undefined;
      const admittedThisRun = new Set<string>();
      // The host owner's known-good exceptions never leave the host; the run says how many it dropped, by which entry.
      const suppressions = runSuppressions(deps.policy.suppress ?? [], agent.name, started, ctx.log, warnedExpired);
      let suppressed = 0;
      const emit: EmitEvent = async (body: EventBody) => {
        // Only the pipeline reports suppressions: a provider's own line of that type stays in the transcript renamed.
        if (body.type === 'findings_suppressed') body = { ...body, type: 'provider_findings_suppressed' };
        if (body.type === 'finding' && suppressions.drop(body)) return;
        if (body.type === 'finding' && dedup && !dedup.admit(body, admittedThisRun)) {
          suppressed++;
          return;
        }
        await rawEmit(body);
      };

      const denied = checkAgent(deps.policy, agent.name);
      if (denied) {
        await emit({ type: 'action_denied', tool: 'agent', input: { agent: agent.name }, by: denied.by, reason: denied.reason });
        return { status: 'failed', error: `agent ${agent.name} is denied by the host policy: ${denied.reason}` };
      }
      const inputs = resolveInputs(agent, ctx.inputs);
      if (!inputs.ok) {
        await emit({ type: 'error', code: 'bad_input', message: inputs.error });
        return { status: 'failed', error: inputs.error };
      }

      const pass = passedEnvNames(agent, deps.policy);
      if (pass.refused.length > 0) ctx.log.warn({ names: pass.refused, policy: deps.policy.source }, 'environment variables the agent asks for and the host policy does not pass (pass_env) are left out');
      const env = buildChildEnv(deps.env ?? process.env, pass.passed, runEnv({ runId: ctx.runId, hostname: ctx.hostname, agent: agent.name }));
      const processes = ctx.processes && { processes: ctx.processes };

      // Executables are found as the children will find them: with the PATH of the environment they are given.
      const executables = createExecutableResolver(env);
      // The host owner may exempt their own agent files (and the built-ins) from allow_executables; never the CP's.
      const commandPolicy = deps.policy.exemptLocalAgents && !isCpDefinition(agent) ? { ...deps.policy, allowExecutables: undefined } : deps.policy;
      const outputs = await runCollectors(agent.collectors, {
        env: { ...env, ...inputsToEnv(inputs.inputs) },
        ...processes,
        policy: deps.policy,
        signal: ctx.signal,
        checkCommand: (command) => checkCommand(commandPolicy, command, executables),
        ...(counters && { onResult: (spec, r) => recordCollector(counters, agent.name, spec.name, r.durationMs / 1000, r.error !== undefined) }),
      });
      for (const [i, output] of outputs.entries()) {
        const spec = agent.collectors[i];
        if (!spec) continue;
        await emit(collectorResultEvent(output, spec));
        if (output.error !== undefined && !spec.optional && !ctx.signal.aborted) {
          await emit({ type: 'error', code: 'collector_failed', collector: spec.name, message: `collector ${spec.name} failed: ${output.error}` });
        }
      }
      if (ctx.signal.aborted) {
        return { status: 'failed', error: 'aborted' };
      }

      await applyRules(agent, outputs, state, { host: ctx.hostname, agent: agent.name, inputs: inputs.inputs }, emit, ctx.log);

      const rendered = renderAgentPrompt({
        agent, host: ctx.hostname, time: started, inputs: inputs.inputs, collectors: outputs, task: ctx.prompt,
        ...(options.tick && { tick: options.tick.tick }),
        ...(state.lastRunAt() !== undefined && { lastRunAt: state.lastRunAt() }),
      });
      if (rendered.missing.length > 0) ctx.log.warn({ missing: rendered.missing }, 'prompt placeholders with no value');

      let outcome: ProviderOutcome;
      const commandDenied = agent.provider === 'custom' && agent.command !== undefined
        ? typeof agent.command === 'string' ? checkCommand(commandPolicy, agent.command, executables) : checkArgv(commandPolicy, agent.command, executables)
        : undefined;
      if (commandDenied) {
        await emit({ type: 'action_denied', tool: 'command', input: { command: agent.command }, by: commandDenied.by, reason: commandDenied.reason });
        outcome = { status: 'failed', error: `the agent's command is denied by the host policy: ${commandDenied.reason}` };
      } else {
        outcome = await deps.providerFor(agent).run(
          {
            ...ctx, env, inputs: inputs.inputs, system: rendered.system, prompt: rendered.prompt, collectors: outputs,
            toolbox: deps.toolboxFor(agent, deps.policy, { env, ...processes }) ?? NO_TOOLS,
          },
          emit,
        );
      }
      state.finishRun(started);
      const report = suppressions.report();
      if (report) await rawEmit(report);
      if (suppressed > 0) ctx.log.info({ suppressed }, 'findings already reported within dedupeTtl were not sent again');
      return outcome;
    },
  });
}
