import type { Parameters } from 'fast-check';

/**
 * How hard the property tests push: a short, seeded budget in `npm test` (reproducible: the same seed finds the same
 * cases), a long one in `npm run fuzz` (OKESU_FUZZ_RUNS, OKESU_FUZZ_SEED; a failure prints the seed and path to replay).
 */
export function budget(shortRuns = 200, opts: { costly?: boolean } = {}): Parameters<unknown> {
  // A costly case (a real request or tunnel) gets a twentieth of the long budget.
  const runs = Number(process.env['OKESU_FUZZ_RUNS'] ?? 'NaN') / (opts.costly ? 20 : 1);
  const seed = Number(process.env['OKESU_FUZZ_SEED'] ?? 'NaN');
  return {
    numRuns: Number.isFinite(runs) && runs > 0 ? Math.max(Math.round(runs), shortRuns) : shortRuns,
    seed: Number.isInteger(seed) ? seed : 0x0ce5,
    endOnFailure: true,
  };
}

/**
 * A generous bound on one call of a parser over an input of at most a few hundred KiB: catastrophic backtracking or
 * quadratic blow-ups exceed it by orders of magnitude, ordinary scheduling noise does not.
 */
export const PARSE_BOUND_MS = 2000;

/** Runs `fn` and fails when one call takes longer than PARSE_BOUND_MS; returns what it returned. */
export function withinBound<T>(what: string, fn: () => T): T {
  const started = performance.now();
  const result = fn();
  const took = performance.now() - started;
  if (took > PARSE_BOUND_MS) throw new Error(`${what} took ${Math.round(took)} ms (bound ${PARSE_BOUND_MS} ms)`);
  return result;
}
