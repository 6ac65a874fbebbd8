/** Buckets of `okesu_run_duration_seconds`: agent runs take seconds to an hour. */
export const RUN_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600] as const;

/** Buckets of `okesu_ingest_commit_duration_seconds`: one group commit takes about a millisecond to a second. */
export const COMMIT_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
