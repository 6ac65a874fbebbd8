import type { AgentSpec } from '../../src/specs/agent-spec.js';
import type { Logger } from '../provider.js';
import type { Clock, TimerHandle } from './clock.js';
import { planFor } from './tick-plan.js';
import type { TickPlan } from './tick-plan.js';

/** What a tick is told about itself. */
export interface TickInfo {
  /** 1-based per agent, counting started ticks (skipped ones take no number); restarts at 1 with a new scheduler. */
  tick: number;
  /** The slot the tick was due at (epoch ms). */
  scheduledAt: number;
  /** When it started: later than `scheduledAt` when it was queued behind a running tick or the process was busy. */
  startedAt: number;
}

/** One scheduled agent, as `status()` reports it. */
export interface ScheduleStatus {
  name: string;
  /** `every 5m` or `cron 0 * * * *`. */
  schedule: string;
  /** When the next tick falls due (epoch ms); null before start, after stop, or when it never will. */
  nextDueAt: number | null;
  running: boolean;
  /** A tick is waiting for the running one to finish (overlap: queue). */
  queued: boolean;
  ticksStarted: number;
  /** Ticks not run because the previous one was still running. */
  skipped: number;
  /** Ticks whose `runTick` rejected. */
  failed: number;
}

/** What the scheduler needs: time, how to run one tick, and where to log. */
export interface SchedulerDeps {
  clock: Clock;
  /** Runs one tick of `agent` (the caller emits tick_start/tick_done and owns the run id). */
  runTick: (agent: AgentSpec, tick: TickInfo) => Promise<void>;
  log: Logger;
}

/** The daimon's tick scheduler. */
export interface Scheduler {
  /** Arms every schedule; interval agents tick at once. A second call is ignored. */
  start(): void;
  /** Cancels timers and queued ticks, starts nothing new, and resolves once running ticks have finished. */
  stop(): Promise<void>;
  status(): ScheduleStatus[];
}

interface Entry {
  agent: AgentSpec;
  plan: TickPlan;
  nextDue: number;
  timer?: TimerHandle;
  running?: Promise<void>;
  runningTick: number;
  /** `scheduledAt` of the one tick waiting behind the running one. */
  queued?: number;
  ticks: number;
  skipped: number;
  failed: number;
}

/** Builds the scheduler for the `mode: daemon` agents among `agents` (others are logged and ignored). */
export function createScheduler(agents: readonly AgentSpec[], deps: SchedulerDeps): Scheduler {
  const { clock, runTick, log } = deps;
  const entries: Entry[] = [];
  for (const agent of agents) {
    if (agent.mode !== 'daemon') {
      log.info({ agent: agent.name, mode: agent.mode }, 'agent not scheduled: only mode: daemon agents tick');
      continue;
    }
    if (entries.some((e) => e.agent.name === agent.name)) {
      log.warn({ agent: agent.name, source: agent.source }, 'agent not scheduled: another agent of this name already is');
      continue;
    }
    const planned = planFor(agent);
    if (!planned.ok) {
      log.error({ agent: agent.name, error: planned.error }, 'agent not scheduled: bad schedule');
      continue;
    }
    entries.push({ agent, plan: planned.plan, nextDue: NaN, runningTick: 0, ticks: 0, skipped: 0, failed: 0 });
  }
  let state: 'idle' | 'started' | 'stopped' = 'idle';

  const arm = (e: Entry): void => {
    if (Number.isFinite(e.nextDue)) e.timer = clock.setTimer(() => onTimer(e), e.nextDue - clock.now());
  };

  const onTimer = (e: Entry): void => {
    e.timer = undefined;
    if (state !== 'started') return;
    try {
      // A wall clock stepped back makes a timer fire before its slot: wait out the rest.
      if (clock.now() >= e.nextDue) fallDue(e);
    } catch (err) {
      log.error({ agent: e.agent.name, err }, 'scheduler error');
    }
    arm(e);
  };

  /** The slot `e.nextDue` has come: move to the next slot, then run, queue or skip this one. */
  const fallDue = (e: Entry): void => {
    const now = clock.now();
    const due = e.nextDue;
    e.nextDue = e.plan.after(due, now);
    if (e.plan.after(due, due) <= now) {
      log.info({ agent: e.agent.name, dueAt: due, lateMs: now - due, nextDueAt: e.nextDue }, 'missed ticks while busy or asleep: ticking once and re-aligning');
    }
    if (!e.running) {
      startTick(e, due);
    } else if (e.agent.overlap === 'queue' && e.queued === undefined) {
      e.queued = due;
      log.info({ agent: e.agent.name, tick: e.runningTick, scheduledAt: due }, `tick queued: tick ${e.runningTick} is still running`);
    } else {
      e.skipped++;
      log.info(
        { agent: e.agent.name, tick: e.runningTick, scheduledAt: due, skipped: e.skipped },
        `tick skipped: tick ${e.runningTick} is still running${e.queued === undefined ? '' : ' and another is queued'}`,
      );
    }
  };

  const startTick = (e: Entry, scheduledAt: number): void => {
    e.ticks++;
    const info: TickInfo = { tick: e.ticks, scheduledAt, startedAt: clock.now() };
    e.runningTick = info.tick;
    let result: Promise<void>;
    try {
      result = Promise.resolve(runTick(e.agent, info));
    } catch (err) {
      result = Promise.reject(err);
    }
    e.running = result
      .then(
        () => undefined,
        (err: unknown) => {
          e.failed++;
          log.error({ agent: e.agent.name, tick: info.tick, err }, 'tick failed');
        },
      )
      .then(() => {
        e.running = undefined;
        const queued = e.queued;
        e.queued = undefined;
        if (queued !== undefined && state === 'started') startTick(e, queued);
      });
  };

  return {
    start() {
      if (state !== 'idle') {
        log.warn({ state }, 'scheduler start ignored: already started or stopped');
        return;
      }
      state = 'started';
      const now = clock.now();
      for (const e of entries) {
        e.nextDue = e.plan.first(now);
        log.info({ agent: e.agent.name, schedule: e.plan.describe, nextDueAt: e.nextDue, overlap: e.agent.overlap }, 'agent scheduled');
        if (e.nextDue <= now) fallDue(e);
        arm(e);
      }
    },
    async stop() {
      state = 'stopped';
      for (const e of entries) {
        if (e.timer) clock.clearTimer(e.timer);
        e.timer = undefined;
        e.queued = undefined;
        e.nextDue = NaN;
      }
      await Promise.all(entries.map((e) => e.running));
    },
    status: () =>
      entries.map((e) => ({
        name: e.agent.name,
        schedule: e.plan.describe,
        nextDueAt: Number.isFinite(e.nextDue) ? e.nextDue : null,
        running: e.running !== undefined,
        queued: e.queued !== undefined,
        ticksStarted: e.ticks,
        skipped: e.skipped,
        failed: e.failed,
      })),
  };
}
