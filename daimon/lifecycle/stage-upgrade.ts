import { chmodSync, copyFileSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../../src/files/atomic-write.js';
import { ensurePrivateDir } from '../../src/files/private-dir.js';
import { pendingUpgradeSchema, type LifecyclePaths, type PendingUpgrade } from './state-layout.js';

/** What staging needs: the verified download, the versions, and the file this daimon runs from. */
export interface StageRequest {
  /** The complete, verified download (`upgrade/download-V.part`); moved, not copied. */
  part: string;
  rolloutId: string;
  fromVersion: string;
  toVersion: string;
  healthTimeoutMs: number;
  /** The running okesu executable: copied to `bin/okesu-FROM` when there is no `bin/current` yet (first upgrade). */
  runningFile: string;
  now: number;
}

/** Points the symlink `path` at `target` by renaming a fresh link over it: readers see the old or the new, never none. */
export function swapLink(path: string, target: string): void {
  const tmp = join(path, '..', `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  symlinkSync(target, tmp);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** What `bin/current` points at (as written, e.g. `okesu-1.4.0`), or undefined when there is none. */
export function currentTarget(paths: LifecyclePaths): string | undefined {
  try {
    return readlinkSync(paths.current);
  } catch {
    return undefined;
  }
}

/** The running version as a file in `bin/`: what `bin/current` names, or a copy of the running executable. */
function previousTarget(paths: LifecyclePaths, req: StageRequest): string {
  const current = currentTarget(paths);
  if (current !== undefined) return current;
  const copy = paths.executable(req.fromVersion);
  if (realpathOrSelf(req.runningFile) !== realpathOrSelf(copy)) {
    const tmp = `${copy}.${randomBytes(4).toString('hex')}.tmp`;
    copyFileSync(req.runningFile, tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, copy);
  }
  return basename(copy);
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Stages a verified release (docs/lifecycle.md, Upgrade step 4): `bin/okesu-TO` (0755), `upgrade/pending.json`,
 * `bin/previous` at the running version, then `bin/current` swapped to the new one. Each step is a rename, so a crash
 * anywhere leaves either the old version current (and a pending trial the supervisor will fail and roll back) or the
 * new one current under a trial.
 */
export function stageUpgrade(paths: LifecyclePaths, req: StageRequest): PendingUpgrade {
  ensurePrivateDir(paths.bin);
  ensurePrivateDir(paths.upgrade);
  const previous = previousTarget(paths, req);
  const staged = paths.executable(req.toVersion);
  chmodSync(req.part, 0o755);
  renameSync(req.part, staged);
  const pending = pendingUpgradeSchema.parse({
    rollout_id: req.rolloutId, from_version: req.fromVersion, to_version: req.toVersion, health_timeout_ms: req.healthTimeoutMs, swapped_at: req.now,
  });
  writeFileAtomic(paths.pending, `${JSON.stringify(pending)}\n`);
  swapLink(paths.previous, previous);
  swapLink(paths.current, basename(staged));
  return pending;
}
