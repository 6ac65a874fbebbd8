import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileType } from './tool-paths.js';

/** One entry met while walking: its path, its path relative to the root, and its own (not followed) stat. */
export interface WalkEntry {
  path: string;
  rel: string;
  type: string;
  stat: Stats;
}

/** What a walk left out: entries the gate denies, and directories it could not read. */
export interface WalkTally {
  hidden: number;
  unreadable: number;
}

/** How to walk. */
export interface WalkOptions {
  recursive: boolean;
  signal: AbortSignal;
  /** Entries for which this resolves true are left out (and not descended into). */
  isHidden(path: string): Promise<boolean>;
}

/**
 * Walks the directory `root` depth-first in name order, yielding each entry before its children. Symbolic links
 * are reported but never followed, so a walk cannot leave the tree it was allowed into. Throws once `signal` aborts.
 */
export async function* walkTree(root: string, opts: WalkOptions, tally: WalkTally): AsyncGenerator<WalkEntry> {
  yield* walkDir(root, root, opts, tally);
}

async function* walkDir(root: string, dir: string, opts: WalkOptions, tally: WalkTally): AsyncGenerator<WalkEntry> {
  opts.signal.throwIfAborted();
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    tally.unreadable++;
    return;
  }
  for (const name of names) {
    opts.signal.throwIfAborted();
    const path = join(dir, name);
    if (await opts.isHidden(path)) {
      tally.hidden++;
      continue;
    }
    let stat: Stats;
    try {
      stat = await lstat(path);
    } catch {
      continue; // gone since readdir
    }
    yield { path, rel: relative(root, path), type: fileType(stat), stat };
    if (opts.recursive && stat.isDirectory()) yield* walkDir(root, path, opts, tally);
  }
}
