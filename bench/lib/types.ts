/** One measured figure, with its target and, where one was measured in the same run, its baseline. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** The target as text, e.g. `< 100 ms`. */
  target?: string;
  /** Whether the target was met (undefined when there is none). */
  met?: boolean;
  baseline?: { name: string; value: number; ratio: number };
}

/** What one benchmark suite reports. */
export interface BenchResult {
  suite: string;
  params: Record<string, unknown>;
  figures: BenchFigure[];
  notes: string[];
}

/** A benchmark suite: `npm run bench [-- --quick] [-- --only NAME]` runs each. */
export interface BenchSuite {
  name: string;
  run(opts: { quick: boolean; log: (msg: string) => void }): Promise<BenchResult>;
}
