import { describe, expect, it } from 'vitest';
import { createStreamBatcher } from '../../../tui/client/stream-batcher.js';
import { periodic } from '../../../tui/client/timers.js';
import type { StreamMessage } from '../../../src/protocol/api.js';
import { ManualTimers } from './manual-timers.js';

describe('periodic', () => {
  it('runs every interval, never overlapping a run in flight, and stops for good', async () => {
    const t = new ManualTimers();
    let runs = 0;
    let release: (() => void) | undefined;
    const p = periodic(t, () => { runs++; return new Promise<void>((r) => { release = r; }); }, () => 100, () => undefined);
    p.start();
    await t.advance(99);
    expect(runs).toBe(0);
    await t.advance(1);
    expect(runs).toBe(1);
    // Still running: nothing is scheduled, so nothing overlaps.
    expect(t.pending()).toEqual([]);
    p.kick(10);
    await t.advance(50);
    expect(runs).toBe(1);
    release?.();
    // The kick during the run asks for one more run right after it.
    await t.advance(0);
    expect(runs).toBe(2);
    release?.();
    await t.advance(0);
    expect(t.pending()).toEqual([100]);
    p.stop();
    expect(t.pending()).toEqual([]);
    await t.advance(1000);
    expect(runs).toBe(2);
  });

  it('kick debounces: repeated kicks run once, after the last', async () => {
    const t = new ManualTimers();
    let runs = 0;
    const p = periodic(t, async () => { runs++; }, () => 10_000, () => undefined);
    p.start();
    p.kick(1000);
    await t.advance(500);
    p.kick(1000);
    await t.advance(999);
    expect(runs).toBe(0);
    await t.advance(1);
    expect(runs).toBe(1);
  });

  it('reports a failed run and keeps the schedule', async () => {
    const t = new ManualTimers();
    const errors: unknown[] = [];
    let runs = 0;
    const p = periodic(t, async () => { runs++; throw new Error('down'); }, () => 100, (e) => errors.push(e));
    p.start();
    await t.advance(300);
    expect(runs).toBe(3);
    expect(errors).toHaveLength(3);
    p.stop();
  });
});

describe('stream batcher', () => {
  it('hands over everything collected within 30 ms as one batch', async () => {
    const t = new ManualTimers();
    const batches: StreamMessage[][] = [];
    const b = createStreamBatcher(t, (m) => batches.push(m));
    for (let i = 1; i <= 1000; i++) b.add({ type: 'ready', cursor: i });
    expect(batches).toHaveLength(0);
    await t.advance(30);
    expect(batches.map((x) => x.length)).toEqual([1000]);
    b.add({ type: 'ready', cursor: 1001 });
    b.clear();
    await t.advance(100);
    expect(batches).toHaveLength(1);
    b.add({ type: 'ready', cursor: 1002 });
    b.flush();
    expect(batches[1]).toEqual([{ type: 'ready', cursor: 1002 }]);
    expect(t.pending()).toEqual([]);
  });
});
