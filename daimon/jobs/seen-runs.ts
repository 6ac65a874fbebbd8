import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../../src/files/atomic-write.js';
import { RUN_ID_RE } from '../../src/protocol/ids.js';
import type { Logger } from '../provider.js';

/** Where the seen-set lives under the state directory. */
export const SEEN_FILE = join('jobs', 'seen.json');

// A bound on the file: far more runs than one host claims within a job's lifetime.
const MAX_SEEN = 100_000;


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

/** The rollouts whose upgrade order this host took from the bucket (a file of the same shape; ids as rolloutIdSchema). */
export const SEEN_UPGRADES = { file: join('jobs', 'seen-upgrades.json'), idPattern: /^ro_[0-9a-f]{16}$/ } as const;

/**
 * Opens the seen-set of `stateDir` (`jobs/seen.json`); a damaged file is logged and replaced. `opts` opens another
 * set of the same shape: SEEN_UPGRADES, the rollout ids of upgrade orders.
 */
export function openSeenRuns(stateDir: string, log: Logger, opts: { file: string; idPattern: RegExp } = { file: SEEN_FILE, idPattern: RUN_ID_RE }): SeenRuns {
  const path = join(stateDir, opts.file);
  const runs = new Map<string, number>(Object.entries(load(path, log, opts.idPattern)));
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

function load(path: string, log: Logger, idPattern: RegExp): Record<string, number> {
  const text = readFileIfExists(path);
  if (text === undefined) return {};
  try {
    const fileSchema = z.object({ runs: z.record(z.string().regex(idPattern), z.number().int().nonnegative()) });
    const parsed = fileSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.runs;
  } catch {
    // fall through: not JSON
  }
  log.warn({ file: path }, 'a seen-set file is damaged; starting a new one (claims still keep a job from running twice)');
  return {};
}
