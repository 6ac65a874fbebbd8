/**
 * How a part of the CP adds a metric without importing prom-client: it names the metric and gives a function the
 * registry calls at each scrape (a read of state the part keeps: a row count, a counter it increments). Used by the
 * notification outbox (`okesu_notify_outbox_pending`, `okesu_notify_deliveries_total{kind,result}`).
 */
export interface MetricCollector {
  /** The metric's full name (`okesu_…`; a counter's ends in `_total`). */
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  /**
   * The value now: one number for a metric without labels, else one sample per label set. Label values must be few
   * (kinds, results, states): never host, agent or channel names on a series that changes often. An error thrown here
   * leaves the metric out of that scrape; the others are still served.
   */
  collect(): number | ReadonlyArray<MetricSample>;
}

/** One labelled value of a collected metric. */
export interface MetricSample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** Where parts register their collect-time metrics (the CP's metrics; `createCpMetrics`). */
export interface MetricCollectors {
  /** Adds a metric; its name must be new (a second one of the same name is refused with an error). */
  addCollector(collector: MetricCollector): void;
}
