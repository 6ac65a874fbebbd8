/**
 * A fixed-bucket histogram kept in plain numbers: `observe` is a few comparisons and additions, no allocation and no
 * prom-client, so the parts that feed it (ingest commits, run ends) pay nothing for metrics nobody scrapes. The
 * registry (cp-registry.ts) turns it into Prometheus `_bucket`/`_sum`/`_count` lines at scrape time.
 */
export interface PlainHistogram {
  /** Upper bounds of the buckets, ascending (`+Inf` is implied). */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
  /** Records one observation (in the metric's base unit, seconds). */
  observe(value: number): void;
}

/** A histogram over `bounds` (ascending, in seconds). */
export function createPlainHistogram(bounds: readonly number[]): PlainHistogram {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  const h = {
    bounds,
    counts,
    sum: 0,
    count: 0,
    observe(value: number): void {
      let i = 0;
      while (i < bounds.length && value > (bounds[i] as number)) i++;
      counts[i] = (counts[i] as number) + 1;
      h.sum += value;
      h.count++;
    },
  };
  return h;
}

/** Buckets of `okesu_run_duration_seconds`: agent runs take seconds to an hour. */
export const RUN_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600] as const;

/** Buckets of `okesu_ingest_commit_duration_seconds`: one group commit takes about a millisecond to a second. */
export const COMMIT_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
