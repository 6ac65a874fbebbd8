/**
 * A fixed-bucket histogram kept in plain numbers: `observe` is a few comparisons and additions, no allocation and no
 * prom-client, so the parts that feed it (ingest commits, run ends, collectors) pay nothing for metrics nobody scrapes. The
 * registries (the CP's cp-registry.ts, the daimon's daimon-registry.ts) turn it into Prometheus lines at scrape time.
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

/** One line of a histogram in the Prometheus exposition: a cumulative `_bucket` (with `le`), `_sum` or `_count`. */
export interface HistogramSample {
  metricName: string;
  labels: Readonly<Record<string, string | number>>;
  value: number;
}

/** Plain histograms (one per label set) as Prometheus's cumulative `_bucket`, `_sum` and `_count` lines. */
export function histogramSamples(name: string, series: Iterable<{ labels: Readonly<Record<string, string | number>>; h: PlainHistogram }>): HistogramSample[] {
  const out: HistogramSample[] = [];
  for (const { labels, h } of series) {
    let cumulative = 0;
    h.bounds.forEach((le, i) => {
      cumulative += h.counts[i] as number;
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
    });
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
    out.push({ metricName: `${name}_sum`, labels, value: h.sum });
    out.push({ metricName: `${name}_count`, labels, value: h.count });
  }
  return out;
}
