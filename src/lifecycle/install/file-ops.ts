import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fsyncDir } from '../../files/atomic-write.js';

/** SHA-256 of a file (hex), or undefined when it does not exist. */
export function sha256File(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True when `path` exists (a dangling symlink counts). */
export function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates `dir` and its missing parents with `mode` (chmod'ed: mkdir applies the umask); directories that existed are left alone. */
export function ensureDir(dir: string, mode: number): void {
  const created = mkdirSync(dir, { recursive: true, mode });
  if (created === undefined) return;
  for (let d = resolve(dir); ; d = dirname(d)) {
    chmodSync(d, mode);
    if (d === resolve(created) || dirname(d) === d) break;
  }
}

/** Copies `from` over `to` atomically (temporary sibling, fsync, chmod, rename): a running copy of `to` keeps its old inode. */
export function copyFileAtomic(from: string, to: string, mode: number): void {
  const tmp = join(dirname(to), `.${basename(to)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    copyFileSync(from, tmp);
    chmodSync(tmp, mode);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, to);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dirname(to));
}

/** Writes `text` to `path` atomically with `mode` (the directory must exist). */
export function writeTextAtomic(path: string, text: string, mode: number): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, text, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dirname(path));
}

/** Points the symlink `path` at `target` atomically (a new link renamed over the old one). */
export function symlinkAtomic(target: string, path: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  symlinkSync(target, tmp);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** The target of a symlink, or undefined when `path` is not one. */
export function linkTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
