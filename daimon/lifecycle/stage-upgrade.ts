import { chmodSync, closeSync, copyFileSync, openSync, readSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsyncDir, writeFileAtomic } from '../../src/files/atomic-write.js';
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

/** True for a script (`#!` first): the node bundle, which must keep an `.mjs` name for node to load it as ESM. */
export function isScript(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head.toString('latin1') === '#!';
  } finally {
    closeSync(fd);
  }
}

/** Where `version` is kept in `bin/`: `okesu-V`, or `okesu-V.mjs` for a script. */
function binFile(paths: LifecyclePaths, version: string, file: string): string {
  return isScript(file) ? paths.scriptExecutable(version) : paths.executable(version);
}

/** The running version as a file in `bin/`: what `bin/current` names, or a copy of the running executable. */
function previousTarget(paths: LifecyclePaths, req: StageRequest): string {
  const current = currentTarget(paths);
  if (current !== undefined) return current;
  const copy = binFile(paths, req.fromVersion, req.runningFile);
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
 * Stages a verified release (docs/lifecycle.md, Upgrade step 4): `bin/okesu-TO` (0755; `.mjs` for a script),
 * `bin/previous` at the running version, `upgrade/pending.json` naming it as the rollback target, then `bin/current`
 * swapped to the new one, and `bin/` synced. Each step is a rename, so a crash anywhere leaves either the old version
 * current (a pending trial whose swap never happened: the supervisor voids it) or the new one current under a trial.
 */
export function stageUpgrade(paths: LifecyclePaths, req: StageRequest): PendingUpgrade {
  ensurePrivateDir(paths.bin);
  ensurePrivateDir(paths.upgrade);
  const previous = previousTarget(paths, req);
  const staged = binFile(paths, req.toVersion, req.part);
  chmodSync(req.part, 0o755);
  renameSync(req.part, staged);
  swapLink(paths.previous, previous);
  fsyncDir(paths.bin);
  const pending = pendingUpgradeSchema.parse({
    rollout_id: req.rolloutId, from_version: req.fromVersion, to_version: req.toVersion, health_timeout_ms: req.healthTimeoutMs, swapped_at: req.now,
    rollback_to: previous,
  });
  writeFileAtomic(paths.pending, `${JSON.stringify(pending)}\n`);
  swapLink(paths.current, basename(staged));
  fsyncDir(paths.bin);
  return pending;
}
