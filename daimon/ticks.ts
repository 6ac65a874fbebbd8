import type { Logger } from 'pino';
import { newId } from '../src/protocol/ids.js';
import type { AgentSpec } from '../src/specs/agent-spec.js';
import { checkAgent } from '../src/specs/gate.js';
import type { HostPolicy } from '../src/specs/policy-spec.js';
import type { RunStarter } from './run-starter.js';
import type { Clock } from './scheduler/clock.js';
import { createScheduler } from './scheduler/scheduler.js';

/** Which `mode: daemon` agents to tick: names, or `all`. */
export type EnableList = readonly string[];

/**
 * The agents `--enable` picks (default none, so a fresh daimon is quiet until told): `all` is every `mode: daemon`
 * agent; a name must be a `mode: daemon` agent of the catalog. Agents the host policy denies are left out with a reason.
 */
export function selectTickedAgents(
  agents: ReadonlyMap<string, AgentSpec>,
  enable: EnableList,
  policy: HostPolicy,
): { ok: true; agents: AgentSpec[]; denied: { name: string; reason: string }[] } | { ok: false; error: string } {
  const wanted = enable.includes('all') ? [...agents.values()].filter((a) => a.mode === 'daemon').map((a) => a.name) : [...new Set(enable)];
  const picked: AgentSpec[] = [];
  const denied: { name: string; reason: string }[] = [];
  for (const name of wanted) {
    const agent = agents.get(name);
    if (!agent) return { ok: false, error: `--enable ${name}: no such agent (have: ${[...agents.keys()].sort().join(', ') || 'none'})` };
    if (agent.mode !== 'daemon') return { ok: false, error: `--enable ${name}: agent ${name} is mode: oneshot; only mode: daemon agents are ticked` };
    const denial = checkAgent(policy, name);
    if (denial) denied.push({ name, reason: denial.reason });
    else picked.push(agent);
  }
  return { ok: true, agents: picked, denied };
}

/** Ticks the picked agents on their schedules; each tick is a run the daimon starts itself (the CP learns of it from its events). */
export function createTicker(deps: {
  agents: AgentSpec[];
  inputsFor: (agent: string) => Record<string, unknown>;
  starter: RunStarter;
  clock: Clock;
  canStart: () => boolean;
  log: Logger;
}): { start(): void; stop(): Promise<void> } {
  return createScheduler(deps.agents, {
    clock: deps.clock,
    log: deps.log,
    runTick: async (agent, tick) => {
      if (!deps.canStart()) return;
      const { done } = deps.starter.start({
        runId: newId('r', deps.clock.now()), agent, prompt: '', inputs: deps.inputsFor(agent.name), timeoutMs: agent.timeoutMs,
        options: { tick: { tick: tick.tick, scheduledAt: tick.scheduledAt } },
      });
      await done;
    },
  });
}
