/** Least-squares slope of (x, y) pairs; NaN with fewer than two. */
export function slope(points: readonly (readonly [number, number])[]): number {
  if (points.length < 2) return Number.NaN;
  const mx = points.reduce((a, p) => a + p[0], 0) / points.length;
  const my = points.reduce((a, p) => a + p[1], 0) / points.length;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return num / den;
}

/** How a memory series (minutes, MiB) moves after its warm-up, and where it would be after `horizonMin`. */
export interface Trend {
  /** MiB per minute after the warm-up. */
  perMin: number;
  last: number;
  max: number;
  /** last + perMin × (horizon − the series' length), never below `last`: a falling window caught a collection. */
  atHorizon: number;
  points: number;
}

/**
 * The trend of `samples` (minutes, MiB) after `warmupMin`. With `floorWindowMin`, each window's minimum stands for it
 * first — for a garbage-collected heap, the low points after collections track what is live, the rest is garbage
 * waiting to be collected.
 */
export function trend(samples: readonly (readonly [number, number])[], warmupMin: number, horizonMin: number, floorWindowMin = 0): Trend {
  let steady = samples.filter(([min]) => min >= warmupMin);
  if (floorWindowMin > 0) {
    const floors = new Map<number, readonly [number, number]>();
    for (const s of steady) {
      const w = Math.floor((s[0] - warmupMin) / floorWindowMin);
      const current = floors.get(w);
      if (current === undefined || s[1] < current[1]) floors.set(w, s);
    }
    steady = [...floors.values()];
  }
  const perMin = slope(steady);
  // With floors, the last floor is where the trend continues from.
  const last = (floorWindowMin > 0 ? steady.at(-1)?.[1] : samples.at(-1)?.[1]) ?? Number.NaN;
  const length = samples.at(-1)?.[0] ?? 0;
  const atHorizon = Math.max(last, last + perMin * (horizonMin - length));
  return { perMin, last, max: samples.reduce((a, s) => Math.max(a, s[1]), 0), atHorizon, points: steady.length };
}
