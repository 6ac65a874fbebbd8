import { join } from 'node:path';
import { z } from 'zod';
import { rolloutIdSchema } from '../../src/protocol/rollout.js';
import { versionSchema } from '../../src/protocol/release.js';

/**
 * The contract between the daimon (which stages an upgrade) and `okesu supervise` (which starts the daimon and rolls
 * an upgrade back), through files in the daimon's state directory (issue 15, docs/lifecycle.md). Either side may be
 * killed at any point; every file is written atomically (write + rename), and symlinks are swapped by rename.
 *
 *   bin/okesu-VERSION     staged executables (0755); a script release (the node bundle, for hosts with Node and for
 *                         tests) is staged as bin/okesu-VERSION.mjs, since node loads ES modules by extension
 *   bin/current           symlink to the one the supervisor starts (absent: the supervisor starts itself)
 *   bin/previous          symlink to the one `current` replaced: what a rollback restores
 *   upgrade/pending.json  a trial in progress: written by the daimon before it swaps `current` and exits
 *   upgrade/result.json   the last upgrade's outcome for the CP; resent on every connect, the CP ignores repeats
 *   upgrade/download-VERSION.part   a resumable download
 *   health.json           the daimon's last contact with the CP (first after start at once, then at most every 10 s)
 *   daimon.pid            the supervisor's current child: a supervisor killed outright leaves it running, and the next
 *                         one stops it before starting another daimon on the same state
 */
export interface LifecyclePaths {
  /** STATE/bin: the staged executables and the `current` / `previous` symlinks. */
  bin: string;
  /** Where an executable release of `version` is staged (bin/okesu-VERSION). */
  executable(version: string): string;
  /** Where a script release (`#!…` node bundle) of `version` is staged (bin/okesu-VERSION.mjs). */
  scriptExecutable(version: string): string;
  /** bin/current: the symlink the supervisor starts. */
  current: string;
  /** bin/previous: the symlink a rollback restores. */
  previous: string;
  /** STATE/upgrade: the trial and download files. */
  upgrade: string;
  /** upgrade/pending.json: a trial in progress. */
  pending: string;
  /** upgrade/result.json: the last upgrade's outcome for the CP. */
  result: string;
  /** upgrade/download-VERSION.part: a resumable download. */
  download(version: string): string;
  /** health.json: the daimon's last contact with the CP. */
  health: string;
  /** daimon.pid: the supervisor's current child. */
  daimonPid: string;
}

/** The lifecycle files of one state directory. */
export function lifecyclePaths(stateDir: string): LifecyclePaths {
  const bin = join(stateDir, 'bin');
  const upgrade = join(stateDir, 'upgrade');
  return {
    bin,
    executable: (version: string) => join(bin, `okesu-${version}`),
    scriptExecutable: (version: string) => join(bin, `okesu-${version}.mjs`),
    current: join(bin, 'current'),
    previous: join(bin, 'previous'),
    upgrade,
    pending: join(upgrade, 'pending.json'),
    result: join(upgrade, 'result.json'),
    download: (version: string) => join(upgrade, `download-${version}.part`),
    health: join(stateDir, 'health.json'),
    daimonPid: join(stateDir, 'daimon.pid'),
  };
}

/** Exit code with which a daimon that staged an upgrade asks its supervisor to start `bin/current` now (EX_TEMPFAIL). */
export const UPGRADE_RESTART_EXIT_CODE = 75;

/** Set by `okesu supervise` in its child's environment (its pid): a daimon without it refuses upgrades (nobody could roll back). */
export const SUPERVISOR_ENV = 'OKESU_SUPERVISOR_PID';

/** A trial of a new version: the supervisor rolls back unless `health.json` shows `to_version` heartbeating by `swapped_at + health_timeout_ms`. */
export const pendingUpgradeSchema = z.strictObject({
  rollout_id: rolloutIdSchema,
  from_version: versionSchema,
  to_version: versionSchema,
  health_timeout_ms: z.number().int().positive(),
  swapped_at: z.number().int(),
  /**
   * The file in `bin/` a rollback points `bin/current` at (the version that ran before). Named here rather than read
   * from `bin/previous` at rollback time, so a rollback interrupted and repeated restores the same version.
   */
  rollback_to: z.string().min(1).max(255).regex(/^[^/\0]+$/, 'a file name in bin/').optional(),
});
/** An upgrade on trial. */
export type PendingUpgrade = z.infer<typeof pendingUpgradeSchema>;

/** What became of the last upgrade, to report to the CP (`upgrade_status`). */
export const upgradeResultSchema = z.strictObject({
  rollout_id: rolloutIdSchema,
  /** The version that was tried. */
  version: versionSchema,
  outcome: z.enum(['healthy', 'rolled_back', 'failed']),
  reason: z.string().max(4096).optional(),
  at: z.number().int(),
});
/** An upgrade's outcome. */
export type UpgradeResult = z.infer<typeof upgradeResultSchema>;

/** The daimon's last contact with its CP (tunnel heartbeat acknowledged, or bucket heartbeat written). */
export const healthSchema = z.strictObject({
  version: z.string().max(64),
  pid: z.number().int().positive(),
  hostname: z.string().max(253),
  /** ms since the epoch. */
  at: z.number().int(),
});
/** A health mark. */
export type HealthMark = z.infer<typeof healthSchema>;
