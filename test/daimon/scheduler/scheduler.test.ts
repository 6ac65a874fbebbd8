import { describe, expect, it } from 'vitest';
import type { AgentSpec, OverlapPolicy } from '../../../src/specs/agent-spec.js';
import { formatSpecError, parseAgent } from '../../../src/specs/parse-agent.js';
import { createManualClock } from '../../../daimon/scheduler/clock.js';
import type { Clock, ManualClock } from '../../../daimon/scheduler/clock.js';
import { createScheduler } from '../../../daimon/scheduler/scheduler.js';
import type { TickInfo } from '../../../daimon/scheduler/scheduler.js';
import { memoryLogger } from '../run-helpers.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 10, 10, 0);

/** A `mode: daemon` agent parsed from real frontmatter; `schedule` is e.g. `interval: 1m`. */
function daemonAgent(name: string, schedule: string, overlap: OverlapPolicy = 'skip'): AgentSpec {
  const r = parseAgent(`---\nname: ${name}\nmode: daemon\n${schedule}\noverlap: ${overlap}\ncommand: ["true"]\n---\nwatch\n`, '<test>');
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  return r.agent;
}

interface Call {
  agent: string;
  info: TickInfo;
  finish(): void;
  fail(err: Error): void;
}

/** A runTick whose ticks stay running until the test finishes them (or at once with `auto`). */
function ticks(auto = false) {
  const calls: Call[] = [];
  const runTick = (agent: AgentSpec, info: TickInfo): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      calls.push({ agent: agent.name, info, finish: resolve, fail: reject });
      if (auto) resolve();
    });
  return { calls, runTick, started: () => calls.map((c) => [c.info.tick, c.info.scheduledAt - T0, c.info.startedAt - T0]) };
}

/** Timers that fire `lateBy()` ms after they are due, as when the process is busy or the machine sleeps. */
function lateClock(base: ManualClock, lateBy: () => number): Clock {
  return { now: base.now, setTimer: (fn, ms) => base.setTimer(fn, ms + lateBy()), clearTimer: base.clearTimer };
}

/** A `lateBy` that makes only the first timer late by `ms` (negative: early). */
function firstLate(ms: number): () => number {
  let late = ms;
  return () => {
    const now = late;
    late = 0;
    return now;
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('createScheduler: interval', () => {
  it('ticks at start, then every interval', async () => {
    const clock = createManualClock(T0);
    const t = ticks(true);
    const s = createScheduler([daemonAgent('a', 'interval: 1m')], { clock, runTick: t.runTick, log: memoryLogger() });
    expect(s.status()[0]).toMatchObject({ name: 'a', schedule: 'every 1m', nextDueAt: null, ticksStarted: 0 });
    s.start();
    expect(t.started()).toEqual([[1, 0, 0]]);
    expect(s.status()[0]).toMatchObject({ nextDueAt: T0 + MIN, ticksStarted: 1 });
    await clock.advance(MIN - 1);
    expect(t.calls).toHaveLength(1);
    await clock.advance(1);
    await clock.advanceTo(T0 + 3 * MIN);
    expect(t.started()).toEqual([[1, 0, 0], [2, MIN, MIN], [3, 2 * MIN, 2 * MIN], [4, 3 * MIN, 3 * MIN]]);
    await s.stop();
  });

  it('does not drift when every timer fires late', async () => {
    const base = createManualClock(T0);
    const t = ticks(true);
    const s = createScheduler([daemonAgent('a', 'interval: 1m')], { clock: lateClock(base, () => 250), runTick: t.runTick, log: memoryLogger() });
    s.start();
    await base.advanceTo(T0 + 100 * MIN + 250);
    expect(t.calls).toHaveLength(101);
    t.calls.forEach((c, i) => {
      expect(c.info).toEqual({ tick: i + 1, scheduledAt: T0 + i * MIN, startedAt: T0 + i * MIN + (i === 0 ? 0 : 250) });
    });
    await s.stop();
  });

  it('ticks once after a long stall and re-aligns to the grid: no catch-up burst', async () => {
    const base = createManualClock(T0);
    const t = ticks(true);
    const log = memoryLogger();
    const s = createScheduler([daemonAgent('a', 'interval: 1m')], { clock: lateClock(base, firstLate(10.5 * MIN)), runTick: t.runTick, log });
    s.start();
    await base.advanceTo(T0 + 11.5 * MIN);
    expect(t.started()).toEqual([[1, 0, 0], [2, MIN, 11.5 * MIN]]);
    expect(s.status()[0]?.nextDueAt).toBe(T0 + 12 * MIN);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'info', obj: expect.objectContaining({ agent: 'a', dueAt: T0 + MIN, lateMs: 10.5 * MIN }) }));
    await base.advanceTo(T0 + 13 * MIN);
    expect(t.started().slice(2)).toEqual([[3, 12 * MIN, 12 * MIN], [4, 13 * MIN, 13 * MIN]]);
    await s.stop();
  });

  it('waits out a timer that fires before its slot (wall clock stepped back)', async () => {
    const base = createManualClock(T0);
    const t = ticks(true);
    const s = createScheduler([daemonAgent('a', 'interval: 1m')], { clock: lateClock(base, firstLate(-20_000)), runTick: t.runTick, log: memoryLogger() });
    s.start();
    await base.advanceTo(T0 + MIN - 1);
    expect(t.calls).toHaveLength(1);
    await base.advanceTo(T0 + MIN);
    expect(t.started()).toEqual([[1, 0, 0], [2, MIN, MIN]]);
    await s.stop();
  });
});

describe('createScheduler: cron', () => {
  it('ticks at each cron time in local time, not at start', async () => {
    const start = new Date(2024, 0, 10, 10, 7).getTime();
    const clock = createManualClock(start);
    const at: number[] = [];
    const s = createScheduler([daemonAgent('c', 'cron: "*/15 * * * *"')], { clock, runTick: async (_agent, info) => void at.push(info.scheduledAt), log: memoryLogger() });
    s.start();
    expect(at).toEqual([]);
    expect(s.status()[0]).toMatchObject({ schedule: 'cron */15 * * * *', nextDueAt: new Date(2024, 0, 10, 10, 15).getTime() });
    await clock.advanceTo(new Date(2024, 0, 10, 11, 0).getTime());
    expect(at).toEqual([15, 30, 45].map((m) => new Date(2024, 0, 10, 10, m).getTime()).concat(new Date(2024, 0, 10, 11, 0).getTime()));
    await s.stop();
  });

  it('skips weekends for a weekday schedule', async () => {
    const clock = createManualClock(new Date(2024, 0, 12, 10, 0).getTime()); // a Friday
    const at: number[] = [];
    const s = createScheduler([daemonAgent('c', 'cron: "0 9 * * MON-FRI"')], { clock, runTick: async (_agent, info) => void at.push(info.startedAt), log: memoryLogger() });
    s.start();
    await clock.advanceTo(new Date(2024, 0, 16, 12, 0).getTime());
    expect(at).toEqual([new Date(2024, 0, 15, 9, 0).getTime(), new Date(2024, 0, 16, 9, 0).getTime()]);
    await s.stop();
  });
});

describe('createScheduler: overlap', () => {
  it('skip: a due tick is not started while the previous runs, and is counted', async () => {
    const clock = createManualClock(T0);
    const t = ticks();
    const log = memoryLogger();
    const s = createScheduler([daemonAgent('a', 'interval: 1m', 'skip')], { clock, runTick: t.runTick, log });
    s.start();
    await clock.advanceTo(T0 + 2 * MIN);
    expect(t.calls).toHaveLength(1);
    expect(s.status()[0]).toMatchObject({ running: true, queued: false, ticksStarted: 1, skipped: 2 });
    expect(log.lines.filter((l) => l.msg === 'tick skipped: tick 1 is still running')).toEqual([
      expect.objectContaining({ level: 'info', obj: expect.objectContaining({ agent: 'a', tick: 1, scheduledAt: T0 + MIN }) }),
      expect.objectContaining({ level: 'info', obj: expect.objectContaining({ agent: 'a', tick: 1, scheduledAt: T0 + 2 * MIN }) }),
    ]);
    t.calls[0]?.finish();
    await settle();
    expect(t.calls).toHaveLength(1);
    expect(s.status()[0]).toMatchObject({ running: false });
    await clock.advanceTo(T0 + 3 * MIN);
    expect(t.started()).toEqual([[1, 0, 0], [2, 3 * MIN, 3 * MIN]]);
    t.calls[1]?.finish();
    await s.stop();
  });

  it('queue: one tick waits and runs when the previous finishes; further due ticks are skipped', async () => {
    const clock = createManualClock(T0);
    const t = ticks();
    const log = memoryLogger();
    const s = createScheduler([daemonAgent('a', 'interval: 1m', 'queue')], { clock, runTick: t.runTick, log });
    s.start();
    await clock.advanceTo(T0 + MIN);
    expect(s.status()[0]).toMatchObject({ running: true, queued: true, skipped: 0 });
    await clock.advanceTo(T0 + 3 * MIN);
    expect(s.status()[0]).toMatchObject({ queued: true, skipped: 2, ticksStarted: 1 });
    expect(log.lines.filter((l) => l.msg === 'tick skipped: tick 1 is still running and another is queued')).toHaveLength(2);
    await clock.advanceTo(T0 + 3 * MIN + 5000);
    t.calls[0]?.finish();
    await settle();
    // The queued tick keeps its slot and starts as soon as the first ends.
    expect(t.started()).toEqual([[1, 0, 0], [2, MIN, 3 * MIN + 5000]]);
    expect(s.status()[0]).toMatchObject({ running: true, queued: false });
    t.calls[1]?.finish();
    await settle();
    expect(t.calls).toHaveLength(2);
    await clock.advanceTo(T0 + 4 * MIN);
    expect(t.started()[2]).toEqual([3, 4 * MIN, 4 * MIN]);
    t.calls[2]?.finish();
    await s.stop();
  });

  it('keeps agents independent: one agent running long does not hold back another', async () => {
    const clock = createManualClock(T0);
    const t = ticks();
    const s = createScheduler([daemonAgent('slow', 'interval: 1m'), daemonAgent('fast', 'interval: 30s')], { clock, runTick: t.runTick, log: memoryLogger() });
    s.start();
    for (let i = 1; i <= 4; i++) {
      t.calls.filter((c) => c.agent === 'fast').forEach((c) => c.finish());
      await clock.advanceTo(T0 + i * 30_000);
    }
    expect(t.calls.filter((c) => c.agent === 'fast').map((c) => c.info.tick)).toEqual([1, 2, 3, 4, 5]);
    expect(s.status().map((st) => [st.name, st.ticksStarted, st.skipped])).toEqual([['slow', 1, 2], ['fast', 5, 0]]);
    t.calls.forEach((c) => c.finish());
    await s.stop();
  });
});

describe('createScheduler: failures and stop', () => {
  it('logs a rejecting or throwing runTick and keeps the schedule', async () => {
    const clock = createManualClock(T0);
    const log = memoryLogger();
    let n = 0;
    const runTick = (): Promise<void> => {
      n++;
      if (n === 1) return Promise.reject(new Error('provider exploded'));
      if (n === 2) throw new Error('thrown before a promise');
      return Promise.resolve();
    };
    const s = createScheduler([daemonAgent('a', 'interval: 1m')], { clock, runTick, log });
    s.start();
    await clock.advanceTo(T0 + 2 * MIN);
    expect(n).toBe(3);
    expect(s.status()[0]).toMatchObject({ ticksStarted: 3, failed: 2, running: false, skipped: 0 });
    const errors = log.lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => [l.msg, (l.obj as { tick: number }).tick, ((l.obj as { err: Error }).err).message])).toEqual([
      ['tick failed', 1, 'provider exploded'],
      ['tick failed', 2, 'thrown before a promise'],
    ]);
    await s.stop();
  });

  it('stop cancels timers and queued ticks, resolves when running ticks end, and fires nothing after', async () => {
    const clock = createManualClock(T0);
    const t = ticks();
    const s = createScheduler([daemonAgent('a', 'interval: 1m', 'queue'), daemonAgent('c', 'cron: "* * * * *"')], { clock, runTick: t.runTick, log: memoryLogger() });
    s.start();
    await clock.advanceTo(T0 + MIN); // a: tick 1 running + one queued; c: tick 1 running
    expect(s.status().map((st) => [st.running, st.queued])).toEqual([[true, true], [true, false]]);
    let stopped = false;
    const stopping = s.stop().then(() => {
      stopped = true;
    });
    expect(clock.pendingTimers()).toBe(0);
    await clock.advanceTo(T0 + 10 * MIN);
    expect(stopped).toBe(false);
    t.calls[0]?.finish();
    await settle();
    expect(stopped).toBe(false);
    t.calls[1]?.finish();
    await stopping;
    await clock.advanceTo(T0 + 20 * MIN);
    expect(t.calls).toHaveLength(2);
    expect(s.status().map((st) => [st.nextDueAt, st.running, st.queued])).toEqual([[null, false, false], [null, false, false]]);
  });

  it('start after stop, or twice, does nothing', async () => {
    const clock = createManualClock(T0);
    const t = ticks(true);
    const log = memoryLogger();
    const s = createScheduler([daemonAgent('a', 'interval: 1m')], { clock, runTick: t.runTick, log });
    s.start();
    s.start();
    expect(t.calls).toHaveLength(1);
    await s.stop();
    s.start();
    await clock.advance(5 * MIN);
    expect(t.calls).toHaveLength(1);
    expect(log.lines.filter((l) => l.msg === 'scheduler start ignored: already started or stopped')).toHaveLength(2);
  });
});

describe('createScheduler: which agents', () => {
  it('schedules only daemon agents with a good schedule, logging why the others are not', async () => {
    const good = daemonAgent('good', 'cron: "@hourly"');
    const oneshot = parseAgent('---\nname: once\ncommand: ["true"]\n---\nx\n', '<test>');
    if (!oneshot.ok) expect.fail('fixture');
    const agents: AgentSpec[] = [
      good,
      oneshot.agent,
      { ...good, name: 'hour24', cron: '0 24 * * *' },
      { ...good, name: 'feb31', cron: '0 0 31 2 *' },
      { ...good, name: 'none', cron: undefined },
      { ...daemonAgent('zero', 'interval: 1m'), intervalMs: 0 },
      { ...good, source: 'elsewhere.md' },
    ];
    const log = memoryLogger();
    const s = createScheduler(agents, { clock: createManualClock(T0), runTick: async () => undefined, log });
    expect(s.status().map((st) => st.name)).toEqual(['good']);
    const why = log.lines.map((l) => [l.level, (l.obj as { agent: string }).agent, (l.obj as { error?: string }).error ?? l.msg]);
    expect(why).toEqual([
      ['info', 'once', 'agent not scheduled: only mode: daemon agents tick'],
      ['error', 'hour24', 'cron "0 24 * * *": hour: 24 is out of range 0-23'],
      ['error', 'feb31', 'cron "0 0 31 2 *" never matches a date'],
      ['error', 'none', 'mode: daemon needs a schedule: set interval or cron'],
      ['error', 'zero', 'interval must be a positive duration, got 0 ms'],
      ['warn', 'good', 'agent not scheduled: another agent of this name already is'],
    ]);
    await s.stop();
  });
});
