/**
 * A deterministic pseudo-random choice for property-style tests (mulberry32): the same seed draws the same cases on
 * every machine. Every bit of its output is usable — an LCG computed in doubles (`(s * 1103515245 + 12345) % 2 ** 31`)
 * loses its low bits past 2^53 and falls into a short cycle, so its `% n` repeats a few cases instead of thousands.
 */
export function seededPick(seed: number): <T>(xs: readonly T[]) => T {
  let s = seed | 0;
  return <T>(xs: readonly T[]): T => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return xs[((t ^ (t >>> 14)) >>> 0) % xs.length] as T;
  };
}

/** A deterministic pseudo-random integer in [0, n), from the same generator. */
export function seededInt(seed: number): (n: number) => number {
  const pick = seededPick(seed);
  return (n) => pick(Array.from({ length: n }, (_, i) => i));
}
