import type { Stats } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { normalizePath } from '../../src/specs/gate.js';

/** A path as the model gave it, resolved: `resolved` against the working directory, `real` with symlinks followed. */
export interface ToolPath {
  resolved: string;
  /** The real path: of the file when it exists, else of its deepest existing parent joined with the rest. */
  real: string;
}

/**
 * Resolves a path for the gate. Both forms are checked, so neither `..` nor a symlink into a denied directory
 * gets through; the tool then works on `real`.
 */
export async function resolveToolPath(cwd: string, path: string): Promise<ToolPath> {
  const resolved = normalizePath(resolve(cwd, path));
  let existing = resolved;
  const rest: string[] = [];
  for (;;) {
    try {
      const real = await realpath(existing);
      return { resolved, real: normalizePath(rest.length ? join(real, ...rest.reverse()) : real) };
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return { resolved, real: resolved };
      rest.push(basename(existing));
      existing = parent;
    }
  }
}

const PROC_PID = /^\/proc\/(\d+)(\/|$)/;

/**
 * True for `/proc/<n>/…` when `n` is this process or one of its threads: the daimon's environment and memory
 * hold the provider keys, and no tool may read them out, whatever the policy says.
 */
export async function isOwnProcessPath(path: string): Promise<boolean> {
  const m = PROC_PID.exec(path);
  if (!m) return false;
  const id = Number(m[1]);
  if (id === process.pid) return true;
  try {
    const status = await readFile(`/proc/${id}/status`, 'utf8');
    return new RegExp(`^Tgid:\\s*${process.pid}$`, 'm').test(status);
  } catch {
    return false;
  }
}

/** A short name for what a non-regular file is. */
export function fileType(stat: Stats): string {
  if (stat.isDirectory()) return 'directory';
  if (stat.isFile()) return 'file';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'char-device';
  if (stat.isBlockDevice()) return 'block-device';
  return 'other';
}

const IO_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a parent is not a directory',
  ELOOP: 'too many symbolic links (or a symlink where a file was expected)',
  EISDIR: 'is a directory',
  EMFILE: 'too many open files',
};

/** `path: permission denied` for a file-system error. */
export function ioError(path: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = (e.code && IO_ERRORS[e.code]) ?? e.message ?? String(err);
  return `${path}: ${text}`;
}
