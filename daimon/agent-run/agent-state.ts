import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../../src/files/atomic-write.js';
import { createLocalDedup } from '../dedup/local-dedup.js';
import type { RulesState } from '../rules/rules-state.js';
import { loadRulesState, saveRulesState } from '../rules/rules-state.js';

/** An agent's memory on this host (its folder in the state dir): rule baselines, emitted fingerprints, last run. */
export interface AgentState {
  /** The rules' previous outputs and baselines. */
  rules(): RulesState;
  /** Stores the rules' new state (atomically). */
  saveRules(state: RulesState): void;
  /** The host's dedup of this agent's findings over `ttlMs`; one instance per agent, so concurrent runs share it. */
  dedup(ttlMs: number): { admit(finding: { type: string }, thisRun?: Set<string>): boolean; save(): void };
  /** When the previous run of this agent on this host started, if there was one. */
  lastRunAt(): number | undefined;
  /** Records a run as over: saves the dedup state and the last-run time. */
  finishRun(startedAt: number): void;
}

const lastRunSchema = z.object({ started_at: z.number() });

/** Opens the state of one agent in `dir` (created by the caller, mode 0700). */
export function openAgentState(dir: string, now: () => number): AgentState {
  const rulesFile = join(dir, 'rules.json');
  const lastRunFile = join(dir, 'last-run.json');
  let dedup: ReturnType<typeof createLocalDedup> | undefined;
  let dedupTtl = -1;
  let lastRun: number | undefined;
  try {
    const parsed = lastRunSchema.safeParse(JSON.parse(readFileIfExists(lastRunFile) ?? 'null'));
    if (parsed.success) lastRun = parsed.data.started_at;
  } catch {
    lastRun = undefined; // a corrupt file only loses the "last run" placeholder
  }
  return {
    rules: () => loadRulesState(rulesFile),
    saveRules: (state) => saveRulesState(rulesFile, state),
    dedup(ttlMs) {
      if (!dedup || dedupTtl !== ttlMs) {
        dedup = createLocalDedup(join(dir, 'dedup.json'), { ttlMs, now });
        dedupTtl = ttlMs;
      }
      return dedup;
    },
    lastRunAt: () => lastRun,
    finishRun(startedAt) {
      dedup?.save();
      lastRun = startedAt;
      writeFileAtomic(lastRunFile, `${JSON.stringify({ started_at: startedAt })}\n`, 0o600);
    },
  };
}
