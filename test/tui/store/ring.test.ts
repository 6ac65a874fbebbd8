import { describe, expect, it } from 'vitest';
import { createRing } from '../../../tui/store/ring.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('createRing', () => {
  it('starts empty or with the newest `capacity` of its items', () => {
    expect(createRing<number>(3).toArray()).toEqual([]);
    const r = createRing(3, [1, 2, 3, 4, 5]);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.size).toBe(3);
    expect(r.capacity).toBe(3);
  });

  it('push appends oldest first and drops the oldest past capacity', () => {
    const r = createRing<number>(3).push(1, 2).push(3).push(4);
    expect(r.toArray()).toEqual([2, 3, 4]);
    expect(r.newest(0)).toBe(4);
    expect(r.newest(2)).toBe(2);
    expect(r.newest(3)).toBeUndefined();
    expect(r.newest(-1)).toBeUndefined();
  });

  it('never changes a ring already handed out, even when two rings push from the same one', () => {
    const base = createRing<number>(4).push(1, 2);
    const a = base.push(3);
    const b = base.push(9);
    const a2 = a.push(4, 5);
    expect(base.toArray()).toEqual([1, 2]);
    expect(a.toArray()).toEqual([1, 2, 3]);
    expect(b.toArray()).toEqual([1, 2, 9]);
    expect(a2.toArray()).toEqual([2, 3, 4, 5]);
    expect(b.push(10).toArray()).toEqual([1, 2, 9, 10]);
  });

  it('holds the newest 5,000 of 10,000 pushed one at a time, and stays correct across compactions', () => {
    let r = createRing<number>(5000);
    const seen: (readonly number[])[] = [];
    for (const i of range(0, 10_000)) {
      r = r.push(i);
      if (i === 6000) seen.push(r.toArray());
    }
    expect(r.size).toBe(5000);
    expect(r.toArray()).toEqual(range(5000, 10_000));
    expect(seen[0]).toEqual(range(1001, 6001));
  });

  it('push of nothing keeps identity; toArray is computed once per ring', () => {
    const r = createRing(2, [1]);
    expect(r.push()).toBe(r);
    expect(r.toArray()).toBe(r.toArray());
  });

  it('map transforms in order and keeps identity when nothing changed', () => {
    const r = createRing(3, [1, 2, 3]);
    expect(r.map((x) => x)).toBe(r);
    const doubled = r.map((x) => x * 2);
    expect(doubled.toArray()).toEqual([2, 4, 6]);
    expect(r.toArray()).toEqual([1, 2, 3]);
    expect(doubled.push(8).toArray()).toEqual([4, 6, 8]);
  });

  it('a zero-capacity ring stays empty', () => {
    expect(createRing<number>(0, [1]).push(2).size).toBe(0);
  });
});
