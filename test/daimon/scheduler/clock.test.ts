import { afterEach, describe, expect, it, vi } from 'vitest';
import { createManualClock, systemClock } from '../../../daimon/scheduler/clock.js';

describe('createManualClock', () => {
  it('fires due timers in order of due time, then creation, with now() at each due time', async () => {
    const clock = createManualClock(1000);
    const fired: [string, number][] = [];
    const mark = (name: string) => () => void fired.push([name, clock.now()]);
    clock.setTimer(mark('c'), 300);
    clock.setTimer(mark('a'), 100);
    clock.setTimer(mark('b'), 100);
    clock.setTimer(mark('late'), 1000);
    await clock.advance(500);
    expect(fired).toEqual([['a', 1100], ['b', 1100], ['c', 1300]]);
    expect(clock.now()).toBe(1500);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('fires timers set by a callback when they fall due in the same advance', async () => {
    const clock = createManualClock(0);
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(clock.now());
      clock.setTimer(tick, 10);
    };
    clock.setTimer(tick, 10);
    await clock.advanceTo(45);
    expect(fired).toEqual([10, 20, 30, 40]);
  });

  it('lets promise chains settle after each timer before the next fires', async () => {
    const clock = createManualClock(0);
    const seen: string[] = [];
    clock.setTimer(() => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => seen.push('first settled'));
    }, 5);
    clock.setTimer(() => void seen.push('second fired'), 5);
    await clock.advance(5);
    expect(seen).toEqual(['first settled', 'second fired']);
  });

  it('clears timers; a zero delay fires on the next advance, even of 0', async () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    const h = clock.setTimer(() => void fired.push('cleared'), 5);
    clock.setTimer(() => void fired.push('zero'), 0);
    clock.clearTimer(h);
    clock.clearTimer(h);
    expect(fired).toEqual([]);
    await clock.advance(0);
    expect(fired).toEqual(['zero']);
    await clock.advance(10);
    expect(fired).toEqual(['zero']);
  });

  it('ignores a handle from another manual clock', async () => {
    const one = createManualClock(0);
    const two = createManualClock(0);
    let fired = false;
    one.setTimer(() => (fired = true), 1);
    two.clearTimer(two.setTimer(() => undefined, 1));
    one.clearTimer(two.setTimer(() => undefined, 1));
    await one.advance(1);
    expect(fired).toBe(true);
  });

  it('refuses to go back in time', async () => {
    const clock = createManualClock(100);
    await expect(clock.advanceTo(99)).rejects.toThrow('manual clock: cannot move from 100 to 99');
    await expect(clock.advance(Number.NaN)).rejects.toThrow(RangeError);
  });
});

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires and clears real timers', async () => {
    const fired: string[] = [];
    const cleared = systemClock.setTimer(() => fired.push('cleared'), 0);
    systemClock.clearTimer(cleared);
    await new Promise<void>((resolve) => systemClock.setTimer(resolve, 1));
    expect(fired).toEqual([]);
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(1000);
  });

  it('chains waits longer than setTimeout can hold (~24.8 days)', () => {
    vi.useFakeTimers();
    const days = 40;
    let fired = false;
    const handle = systemClock.setTimer(() => (fired = true), days * 86_400_000);
    vi.advanceTimersByTime(days * 86_400_000 - 1);
    expect(fired).toBe(false);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(true);
    const again = systemClock.setTimer(() => (fired = false), days * 86_400_000);
    vi.advanceTimersByTime(30 * 86_400_000);
    systemClock.clearTimer(again);
    vi.advanceTimersByTime(20 * 86_400_000);
    expect(fired).toBe(true);
    systemClock.clearTimer(handle);
  });
});
