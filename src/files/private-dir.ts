import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { OkesuError } from '../errors.js';

/** Mode of every directory under a private state directory, the directory included. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file under a private state directory: event transcripts, keys, state. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and its missing parents) 0700 whatever the umask: mkdir applies the umask, so each directory this
 * call created is chmod'ed after. A directory that already existed is left as it is.
 */
export function ensurePrivateDir(dir: string): void {
  const created = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (created === undefined) return;
  const first = resolve(created);
  for (let d = resolve(dir); ; d = dirname(d)) {
    chmodSync(d, PRIVATE_DIR_MODE);
    if (d === first || dirname(d) === d) break;
  }
}

/**
 * Makes a state directory private at every start: creates it if needed, refuses one owned by another user, chmods it
 * 0700 and tightens everything in it (directories 0700, files 0600, 0700 if executable by the owner), so what an older version or a loose umask left
 * readable is not. Symbolic links are left alone (their own mode means nothing). Throws OKS_ERR_CONFIG naming the path
 * it cannot secure.
 */
export function securePrivateDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new OkesuError('OKS_ERR_CONFIG', `state directory ${dir} is not a directory`);
  ensurePrivateDir(dir);
  const stat = statSync(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new OkesuError('OKS_ERR_CONFIG', `state directory ${dir} is owned by uid ${stat.uid}, not by this process (uid ${uid}); it must be ours so it can be kept private (0700)`);
  }
  tighten(dir, PRIVATE_DIR_MODE);
  const pending = [dir];
  for (let d = pending.pop(); d !== undefined; d = pending.pop()) {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const entry = lstatSync(path);
      if (entry.isDirectory()) {
        tighten(path, PRIVATE_DIR_MODE);
        pending.push(path);
      } else if (entry.isFile()) {
        // A staged executable (bin/okesu-VERSION, issue 15) keeps its owner's execute bit, or the supervisor could not start it.
        tighten(path, PRIVATE_FILE_MODE | (entry.mode & 0o100));
      }
    }
  }
}

function tighten(path: string, mode: number): void {
  if ((lstatSync(path).mode & 0o777) === mode) return;
  try {
    chmodSync(path, mode);
  } catch (err) {
    throw new OkesuError('OKS_ERR_CONFIG', `cannot make ${path} private (mode ${mode.toString(8)}): ${(err as Error).message}`);
  }
}
