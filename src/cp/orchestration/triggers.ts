import type { Logger } from 'pino';
import type { StoredFinding } from '../../protocol/finding.js';
import { nextCronTime, parseCron } from '../../specs/cron.js';
import { evaluateExpression, parseExpression, truthy, type Expr } from '../../specs/expr/index.js';
import type { OrchestrationSpec } from '../../specs/orchestration/orchestration-types.js';
import type { CpClock } from './clock.js';
import type { OrchestrationRepo } from './store.js';
import { createBackoff, type StoreHealth } from '../store/store-health.js';

/** What the triggers need: the repo, a clock, and a way to start a run. */
export interface TriggerDeps {
  repo: OrchestrationRepo;
  clock: CpClock;
  log: Logger;
  /** The store's health: a slot the store refuses to record is retried with backoff. */
  health?: Pick<StoreHealth, 'failed'>;
  /** Starts a run with `fields` bound under `trigger`. */
  start(spec: OrchestrationSpec, fields: Record<string, unknown>, triggeredBy: string): Promise<unknown>;
}

/**
 * Most runs one orchestration's finding triggers keep going at once. A flood of matching findings (a noisy host, an
 * outbreak) must not turn into thousands of runs dispatching to the fleet; past the cap, matches are dropped with a
 * warning and start again as runs finish.
 */
export const MAX_FINDING_RUNS_IN_FLIGHT = 20;

interface Armed {
  spec: OrchestrationSpec;
  /** Matches dropped at the cap since the last warning. */
  dropped: number;
  timers: unknown[];
  filters: { source: string; expr: Expr }[];
  /** A filter failed to evaluate: logged once per orchestration, not per finding. */
  warned: boolean;
}

/**
 * Cron and finding triggers of the stored orchestrations. Cron: each trigger fires at its next slot (CP local time);
 * the slot is stored before the run starts, so a slot never fires twice, across restarts too; slots missed while the
 * CP was down are not caught up. Finding: each trigger's filter is evaluated over every new finding with scope
 * `{ finding }`; a match starts one run with the finding's fields under `trigger`. Findings of a run of the same
 * orchestration never trigger it (no feedback loops).
 */
export function createTriggers(deps: TriggerDeps): Triggers {
  const armed = new Map<string, Armed>();
  let stopped = true;
  const retryBackoff = createBackoff(500, 60_000);

  /**
   * Starts a triggered run. A start the store refused stored nothing (the run's creation is one transaction; the engine
   * retries later steps itself), so it is tried again after a backoff: a slot or a matching finding is not lost.
   */
  const startRun = (spec: OrchestrationSpec, fields: Record<string, unknown>, triggeredBy: string): void => {
    deps.start(spec, fields, triggeredBy).then(
      () => retryBackoff.reset(),
      (err: unknown) => {
        if (deps.health?.failed(err, 'triggered run start') && !stopped) {
          deps.clock.setTimer(() => {
            if (!stopped) startRun(spec, fields, triggeredBy);
          }, retryBackoff.next());
        } else deps.log.error({ err, orchestration: spec.name, triggered_by: triggeredBy }, 'triggered run failed to start');
      },
    );
  };

  // Runs on a timer: an uncaught store error there would end the CP. The slot is retried until it can be recorded.
  const fire = (name: string, idx: number, cron: string, slot: number): void => {
    const a = armed.get(name);
    if (!a || stopped) return;
    try {
      fireSlot(a, name, idx, cron, slot);
      retryBackoff.reset();
    } catch (err) {
      if (!deps.health?.failed(err, 'cron trigger')) deps.log.error({ err, orchestration: name }, 'cron trigger failed');
      a.timers[idx] = deps.clock.setTimer(() => fire(name, idx, cron, slot), retryBackoff.next());
    }
  };

  const fireSlot = (a: Armed, name: string, idx: number, cron: string, slot: number): void => {
    // A timer may wake early (a clock change); wait for the slot itself.
    if (deps.clock.now() < slot) {
      a.timers[idx] = deps.clock.setTimer(() => fire(name, idx, cron, slot), slot - deps.clock.now());
      return;
    }
    // Claimed in the store before the run starts: a slot fires once, across restarts and across replicas.
    if (deps.repo.claimSlot(name, idx, cron, slot)) startRun(a.spec, { cron, scheduled_at: slot }, `cron:${cron}`);
    schedule(name, idx, cron);
  };

  function schedule(name: string, idx: number, cron: string): void {
    const a = armed.get(name);
    const parsed = parseCron(cron);
    if (!a || !parsed.ok) return;
    const now = deps.clock.now();
    const next = nextCronTime(parsed.cron, Math.max(now, deps.repo.lastFired(name, idx, cron) ?? now));
    if (Number.isNaN(next)) return;
    a.timers[idx] = deps.clock.setTimer(() => fire(name, idx, cron, next), next - now);
  }

  const disarm = (name: string): void => {
    const a = armed.get(name);
    if (!a) return;
    for (const t of a.timers) if (t !== undefined) deps.clock.clearTimer(t);
    armed.delete(name);
  };

  const arm = (spec: OrchestrationSpec): void => {
    disarm(spec.name);
    const filters: Armed['filters'] = [];
    for (const t of spec.triggers) {
      if (t.type !== 'finding') continue;
      const parsed = parseExpression(t.filter);
      if (parsed.ok) filters.push({ source: t.filter, expr: parsed.expr });
      else deps.log.warn({ orchestration: spec.name, filter: t.filter, reason: parsed.error }, 'finding trigger filter does not parse; ignored');
    }
    const a: Armed = { spec, timers: [], filters, warned: false, dropped: 0 };
    armed.set(spec.name, a);
    spec.triggers.forEach((t, idx) => {
      if (t.type === 'cron') schedule(spec.name, idx, t.cron);
    });
  };

  /** The orchestration whose run produced a finding, if any. */
  const originOf = (finding: StoredFinding): string | undefined => {
    const h = deps.repo.hostByAgentRun(finding.run_id);
    return h ? deps.repo.getRun(h.run_id)?.name : undefined;
  };

  return {
    /** Arms the triggers of every stored orchestration. */
    start(): void {
      stopped = false;
      for (const o of deps.repo.listOrchestrations()) arm(o.spec);
    },
    /** Re-arms one orchestration after it was applied. */
    update(spec: OrchestrationSpec): void {
      if (!stopped) arm(spec);
    },
    stop(): void {
      stopped = true;
      for (const name of [...armed.keys()]) disarm(name);
    },
    /** Evaluates the finding triggers over newly stored findings; each match starts one run. Never throws. */
    onFindings(findings: readonly StoredFinding[]): void {
      if (stopped) return;
      for (const a of armed.values()) {
        if (a.filters.length === 0) continue;
        for (const finding of findings) {
          const matched = a.filters.some((f) => {
            try {
              return truthy(evaluateExpression(f.expr, { finding }, f.source));
            } catch (err) {
              if (!a.warned) deps.log.warn({ orchestration: a.spec.name, err: (err as Error).message }, 'finding trigger filter failed to evaluate');
              a.warned = true;
              return false;
            }
          });
          if (!matched || originOf(finding) === a.spec.name) continue;
          // The engine stores a run before its start returns, so the count includes the runs started just above.
          if (deps.repo.activeFindingRunCount(a.spec.name) >= MAX_FINDING_RUNS_IN_FLIGHT) {
            if (a.dropped++ === 0) deps.log.warn({ orchestration: a.spec.name, limit: MAX_FINDING_RUNS_IN_FLIGHT }, 'finding trigger at its limit of runs in flight: matches dropped until runs finish');
            continue;
          }
          a.dropped = 0;
          startRun(a.spec, { ...finding }, `finding:${finding.id}`);
        }
      }
    },
  };
}
/** The orchestration triggers: cron schedules and finding filters that start orchestration runs. */
export interface Triggers {
  /** Arms the triggers of every stored orchestration. */
  start(): void;
  /** Re-arms one orchestration after it was applied (its old timers and filters are dropped). */
  update(spec: OrchestrationSpec): void;
  /** Disarms every trigger; later findings start nothing. */
  stop(): void;
  /**
   * Evaluates the finding triggers over newly stored findings; each match starts one run, except findings of the
   * orchestration's own runs and matches past its limit of runs in flight. Never throws.
   */
  onFindings(findings: readonly StoredFinding[]): void;
}
