import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { EventBody, RunEndStatus } from '../src/protocol/event.js';
import { newId } from '../src/protocol/ids.js';
import type { AgentSpec } from '../src/specs/agent-spec.js';
import type { HostPolicy } from '../src/specs/policy-spec.js';
import { createAgentPipeline } from './agent-run/agent-pipeline.js';
import type { Logger } from './provider.js';
import { createProviderSet } from './providers/provider-set.js';
import { executeRun } from './run-executor.js';
import { createRedactor } from './secrets/redact.js';
import { createSecretStore } from './secrets/secret-store.js';
import type { SecretStore } from './secrets/secret-store.js';
import { createToolbox } from './tools/toolbox.js';

/** A stamped event of a local run, as `okesu agents run --local` prints it. */
export type LocalEvent = EventBody & { ts: number; host: string; agent: string; agent_version: string; run_id: string; seq: number };

/** What a local run needs. */
export interface LocalRunOptions {
  agent: AgentSpec;
  prompt: string;
  inputs: Record<string, unknown>;
  policy: HostPolicy;
  /** Agent state (rule baselines, dedup): `<stateDir>/agents/<name>/`. */
  stateDir: string;
  /** Run timeout (default: the agent's). */
  timeoutMs?: number;
  signal: AbortSignal;
  onEvent: (event: LocalEvent) => void;
  log: Logger;
  /** Environment of collectors and tools (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Provider keys and URLs, taken at start (default: none); their values are scrubbed from the printed events. */
  secrets?: SecretStore;
  hostname?: string;
  now?: () => number;
}

/**
 * Runs one agent on this machine with no CP (the authoring loop, `okesu agents run NAME --local`): the same pipeline
 * a daimon runs — policy, collectors, rules, model, tools, dedup — with each event stamped, scrubbed of the keys it
 * holds (as a daimon scrubs what it relays) and handed to `onEvent`.
 */
export async function runAgentLocally(options: LocalRunOptions): Promise<RunEndStatus> {
  const now = options.now ?? Date.now;
  const host = options.hostname ?? osHostname();
  const runId = newId('r', now());
  let seq = 0;
  const secrets = options.secrets ?? createSecretStore();
  const redactor = createRedactor(secrets);
  const pipeline = createAgentPipeline({
    policy: options.policy,
    stateDir: join(options.stateDir, 'agents'),
    providerFor: createProviderSet({ secrets }),
    toolboxFor: (agent, policy, run) => createToolbox(agent, policy, run),
    env: options.env,
    now,
  });
  return executeRun({
    runId, hostname: host, agent: options.agent, prompt: options.prompt, inputs: options.inputs,
    timeoutMs: options.timeoutMs ?? options.agent.timeoutMs, signal: options.signal, provider: pipeline(), log: options.log, now,
    emit: async (body) => {
      options.onEvent(redactor.value({ ...body, ts: now(), host, agent: options.agent.name, agent_version: options.agent.version, run_id: runId, seq: ++seq }));
    },
  });
}
