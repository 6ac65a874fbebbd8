import { describe, expect, it } from 'vitest';
import { createPlainHistogram } from '../../../src/metrics/plain-histogram.js';
import { bucketScanReading } from '../../../src/cp/metrics/cp-metrics.js';

describe('plain histogram', () => {
  it('puts a value in the first bucket whose bound is at least the value (Prometheus `le`), the rest above all bounds', () => {
    const h = createPlainHistogram([1, 5, 10]);
    for (const v of [0, 1, 1.0001, 5, 7, 10, 11, 1000]) h.observe(v);
    expect(h.counts).toEqual([2, 2, 2, 2]);
    expect(h.count).toBe(8);
    expect(h.sum).toBeCloseTo(0 + 1 + 1.0001 + 5 + 7 + 10 + 11 + 1000);
  });
});

describe('bucket scan reading', () => {
  const stats = { passes: 3, failedPasses: 1, lastCompletePassStartedAt: 10_000, runningSince: 5_000 };
  it.each([
    ['a scanner that does not run here (stopped, follower)', { ...stats, runningSince: null }, 20_000, undefined],
    ['no scanner (no bucket)', undefined, 20_000, undefined],
    ['the lag since the last complete pass started', stats, 12_500, { ok: 3, failed: 1, lagSeconds: 2.5 }],
    ['before the first complete pass: since the scanner started', { ...stats, passes: 0, lastCompletePassStartedAt: null }, 9_000, { ok: 0, failed: 1, lagSeconds: 4 }],
  ])('%s', (_name, s, now, expected) => {
    expect(bucketScanReading(s, now)).toEqual(expected);
  });
});
