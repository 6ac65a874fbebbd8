import { readFileIfExists, writeFileAtomic } from '../../src/files/atomic-write.js';
import { healthSchema, type HealthMark, type LifecyclePaths } from './state-layout.js';

/** Least time between two writes of `health.json` after the first. */
export const HEALTH_MIN_INTERVAL_MS = 10_000;

/** Writes `health.json` on contact with the CP: the first at once, then at most every `minIntervalMs`. */
export interface HealthMarker {
  /** The CP answered (a welcome or a heartbeat ack): write the mark unless one was written too recently. */
  contact(): void;
}

/**
 * The daimon's side of the supervisor's trial (docs/lifecycle.md, Upgrade step 6): `health.json` names this
 * version and pid, so the supervisor knows the new version reached its CP. A failed write is logged, never thrown:
 * it must not take the tunnel down (the trial then fails, which is the truth: this version cannot keep its state).
 */
export function createHealthMarker(
  opts: { paths: LifecyclePaths; version: string; hostname: string; minIntervalMs?: number },
  deps: { now?: () => number; onError?: (err: Error) => void },
): HealthMarker {
  const now = deps.now ?? Date.now;
  const every = opts.minIntervalMs ?? HEALTH_MIN_INTERVAL_MS;
  let last: number | undefined;
  return {
    contact() {
      const at = now();
      if (last !== undefined && at - last < every) return;
      last = at;
      try {
        const mark = healthSchema.parse({ version: opts.version, pid: process.pid, hostname: opts.hostname, at });
        writeFileAtomic(opts.paths.health, `${JSON.stringify(mark)}\n`);
      } catch (err) {
        deps.onError?.(err as Error);
      }
    },
  };
}

/**
 * Reads a `health.json`: undefined when absent, damaged (a directory, unreadable) or not a health mark — never a
 * reason for a reader (the supervisor, install) to stop. A half-written file cannot happen: it is renamed in.
 */
export function readHealthMark(path: string): HealthMark | undefined {
  try {
    const text = readFileIfExists(path);
    if (text === undefined) return undefined;
    const parsed = healthSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
