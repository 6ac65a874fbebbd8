import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../../src/files/atomic-write.js';
import { RUN_ID_RE } from '../../src/protocol/ids.js';
import type { Logger } from '../provider.js';

/** Where the seen-set lives under the state directory. */
export const SEEN_FILE = join('jobs', 'seen.json');

// A bound on the file: far more runs than one host claims within a job's lifetime.
const MAX_SEEN = 100_000;

const fileSchema = z.object({ runs: z.record(z.string().regex(RUN_ID_RE), z.number().int().nonnegative()) });

/**
 * The run ids this host has claimed from the bucket, each with its job's `expires_at` (SPEC §3.2). It outlives the
 * process so a replayed job — a copy of an old one put back after the CP cleaned its claim — is never run again;
 * an entry is pruned once its job has expired, since an expired job is refused by its signed header anyway.
 */
export interface SeenRuns {
  has(runId: string): boolean;
  /** Remembers a run and writes the set (atomic, 0600) before the caller acts on the job. */
  add(runId: string, expiresAt: number): void;
  /** Drops entries whose job has expired; writes the set when something was dropped. */
  prune(now: number): void;
  size(): number;
}

/** Opens the seen-set of `stateDir` (`jobs/seen.json`); a damaged file is logged and replaced. */
export function openSeenRuns(stateDir: string, log: Logger): SeenRuns {
  const path = join(stateDir, SEEN_FILE);
  const runs = new Map<string, number>(Object.entries(load(path, log)));
  const save = (): void => writeFileAtomic(path, `${JSON.stringify({ runs: Object.fromEntries(runs) })}\n`, 0o600);
  return {
    has: (runId) => runs.has(runId),
    add(runId, expiresAt) {
      runs.set(runId, expiresAt);
      // The oldest insertion goes first: it is the likeliest to have expired.
      while (runs.size > MAX_SEEN) runs.delete(runs.keys().next().value as string);
      save();
    },
    prune(now) {
      let dropped = false;
      for (const [runId, expiresAt] of runs) {
        if (expiresAt <= now) {
          runs.delete(runId);
          dropped = true;
        }
      }
      if (dropped) save();
    },
    size: () => runs.size,
  };
}

function load(path: string, log: Logger): Record<string, number> {
  const text = readFileIfExists(path);
  if (text === undefined) return {};
  try {
    const parsed = fileSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.runs;
  } catch {
    // fall through: not JSON
  }
  log.warn({ file: path }, 'the seen-runs file is damaged; starting a new one (claims still keep a job from running twice)');
  return {};
}
