import { formatDuration } from '../../src/protocol/duration.js';
import type { AgentSpec } from '../../src/specs/agent-spec.js';
import { cronCanMatch, nextCronTime, parseCron } from '../../src/specs/cron.js';

/** When one agent's ticks fall due: pure arithmetic over time, no timers. */
export interface TickPlan {
  /** For status and logs: `every 5m` or `cron 0 * * * *`. */
  readonly describe: string;
  /** The first due time of a schedule started at `now` (NaN: never). */
  first(now: number): number;
  /**
   * The due time after the tick that fell due at `due` and fired at `now` (>= due): the first slot
   * strictly after `now`, so slots missed while the process was busy or asleep are not caught up.
   */
  after(due: number, now: number): number;
}

/** An interval plan: due at start, then every `intervalMs` on a grid anchored at the first tick (no drift). */
export function intervalPlan(intervalMs: number): TickPlan {
  return {
    describe: `every ${formatDuration(intervalMs)}`,
    first: (now) => now,
    after: (due, now) => due + intervalMs * (Math.floor((now - due) / intervalMs) + 1),
  };
}

/** A cron plan over the local wall clock (see src/specs/cron.ts for how DST is handled). */
export function cronPlan(source: string, next: (afterMs: number) => number): TickPlan {
  return { describe: `cron ${source}`, first: (now) => next(now), after: (_due, now) => next(now) };
}

/** The plan for a daemon agent's `interval` or `cron`, or an error naming what is wrong with it. */
export function planFor(agent: AgentSpec): { ok: true; plan: TickPlan } | { ok: false; error: string } {
  if (agent.cron !== undefined && agent.intervalMs !== undefined) return { ok: false, error: 'set either interval or cron, not both' };
  if (agent.cron !== undefined) {
    const parsed = parseCron(agent.cron);
    if (!parsed.ok) return { ok: false, error: `cron ${JSON.stringify(agent.cron)}: ${parsed.error}` };
    const cron = parsed.cron;
    if (!cronCanMatch(cron)) return { ok: false, error: `cron ${JSON.stringify(agent.cron)} never matches a date` };
    return { ok: true, plan: cronPlan(cron.source, (afterMs) => nextCronTime(cron, afterMs)) };
  }
  if (agent.intervalMs !== undefined) {
    if (!Number.isFinite(agent.intervalMs) || agent.intervalMs <= 0) return { ok: false, error: `interval must be a positive duration, got ${agent.intervalMs} ms` };
    return { ok: true, plan: intervalPlan(agent.intervalMs) };
  }
  return { ok: false, error: 'mode: daemon needs a schedule: set interval or cron' };
}
