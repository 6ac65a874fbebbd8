import { lstatSync, renameSync, rmSync } from 'node:fs';
import { readHealthMark } from '../../../daimon/lifecycle/health-mark.js';
import { currentTarget, swapLink } from '../../../daimon/lifecycle/stage-upgrade.js';
import {
  pendingUpgradeSchema, upgradeResultSchema, type LifecyclePaths, type PendingUpgrade, type UpgradeResult,
} from '../../../daimon/lifecycle/state-layout.js';
import { readFileIfExists, writeFileAtomic } from '../../files/atomic-write.js';
import { describeIssues } from '../../protocol/event.js';

/**
 * The supervisor's side of an upgrade trial (docs/lifecycle.md, Upgrade step 5): reading `pending.json` and
 * `health.json`, and the two endings — healthy, or rolled back to `bin/previous`. Files only, no processes.
 */

/** What `readPending` found: no trial, a trial, or a file that is not one (it is removed: nobody can act on it). */
export type PendingRead = { kind: 'none' } | { kind: 'trial'; pending: PendingUpgrade } | { kind: 'invalid'; problem: string };

/** Reads `upgrade/pending.json`. */
export function readPending(paths: LifecyclePaths): PendingRead {
  let text: string | undefined;
  try {
    text = readFileIfExists(paths.pending);
  } catch (err) {
    return { kind: 'invalid', problem: `${paths.pending} cannot be read: ${(err as Error).message}` };
  }
  if (text === undefined) return { kind: 'none' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', problem: `${paths.pending} is not JSON` };
  }
  const parsed = pendingUpgradeSchema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', problem: `${paths.pending}: ${describeIssues(parsed.error)}` };
  return { kind: 'trial', pending: parsed.data };
}

/**
 * True when `health.json` proves the trial passed: it names `to_version`, was written after the swap and by the
 * deadline, and (when `pid` is given) by that child. Without `pid` (a supervisor restarted mid-trial looking at what
 * an earlier child wrote) any process of the new version counts.
 */
export function trialPassed(paths: LifecyclePaths, pending: PendingUpgrade, pid?: number): boolean {
  const health = readHealthMark(paths.health);
  if (!health || health.version !== pending.to_version) return false;
  if (pid !== undefined && health.pid !== pid) return false;
  return health.at >= pending.swapped_at && health.at <= trialDeadline(pending);
}

/** When the trial fails without a health mark (ms since the epoch). */
export function trialDeadline(pending: PendingUpgrade): number {
  return pending.swapped_at + pending.health_timeout_ms;
}

/**
 * Where a trial stands by what `bin/current` names: the new version (`on_trial`); the rollback target, when a
 * rollback swapped it back and the supervisor died before recording it (`rolled_back`); or anything else, when the
 * daimon was killed between writing pending.json and the swap (`not_swapped`: the old version is current, no trial).
 */
export function trialStage(paths: LifecyclePaths, pending: PendingUpgrade): 'on_trial' | 'rolled_back' | 'not_swapped' {
  const target = currentTarget(paths);
  if (target === `okesu-${pending.to_version}` || target === `okesu-${pending.to_version}.mjs`) return 'on_trial';
  if (target !== undefined && target === pending.rollback_to) return 'rolled_back';
  return 'not_swapped';
}

/** Ends a trial that never began (the swap did not happen): `result.json` says the upgrade failed, `pending.json` goes. */
export function voidTrial(paths: LifecyclePaths, pending: PendingUpgrade, now: number): UpgradeResult {
  return finish(paths, {
    rollout_id: pending.rollout_id, version: pending.to_version, outcome: 'failed', at: now,
    reason: `the upgrade to ${pending.to_version} was interrupted before the swap; ${pending.from_version} keeps running`,
  });
}

/** Ends a trial as healthy: `result.json` says so, `pending.json` is removed. */
export function markHealthy(paths: LifecyclePaths, pending: PendingUpgrade, now: number): UpgradeResult {
  return finish(paths, { rollout_id: pending.rollout_id, version: pending.to_version, outcome: 'healthy', at: now });
}

/**
 * Ends a trial by restoring the previous version: `bin/previous` renamed over `bin/current` (atomic; without a
 * previous, `bin/current` is removed so the supervisor starts itself), then `result.json` with the reason, then
 * `pending.json` removed — in that order, so a crash in between repeats the rollback rather than losing it.
 */
export function rollBack(paths: LifecyclePaths, pending: PendingUpgrade, reason: string, now: number): UpgradeResult {
  // The target named in pending.json: repeating an interrupted rollback restores the same version.
  if (pending.rollback_to !== undefined) swapLink(paths.current, pending.rollback_to);
  else if (present(paths.previous)) renameSync(paths.previous, paths.current);
  else rmSync(paths.current, { force: true });
  return finish(paths, { rollout_id: pending.rollout_id, version: pending.to_version, outcome: 'rolled_back', reason: reason.slice(0, 4096), at: now });
}

function finish(paths: LifecyclePaths, result: UpgradeResult): UpgradeResult {
  writeFileAtomic(paths.result, `${JSON.stringify(upgradeResultSchema.parse(result))}\n`);
  rmSync(paths.pending, { force: true });
  return result;
}

function present(path: string): boolean {
  try {
    lstatSync(path); // a link counts even when it dangles
    return true;
  } catch {
    return false;
  }
}

/** "60 s", "1.5 s": a timeout as a reason states it. */
export function secondsText(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** Why a child that exited during its trial failed it. */
export function exitReason(exit: { code: number | null; signal: string | null; error?: string }): string {
  if (exit.error !== undefined) return `could not be started: ${exit.error}`;
  if (exit.signal !== null) return `was killed by ${exit.signal} before its first heartbeat`;
  return `exited with code ${String(exit.code)} before its first heartbeat`;
}
