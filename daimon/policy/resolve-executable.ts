import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ExecutableResolver } from '../../src/specs/gate.js';

/** A file that exists, is regular (after symlinks) and executable by this process: what `sh` and execvp would run. */
function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Finds executables the way the shell and execvp do for a child with `env` started in `cwd`: a word with a `/` is a
 * path (relative to cwd), any other is looked up along `env.PATH` (an empty entry is cwd), first executable file
 * wins. With no PATH at all a bare word is not found: the gate then refuses rather than guess the shell's default.
 */
export function createExecutableResolver(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): ExecutableResolver {
  const search = env.PATH === undefined ? [] : env.PATH.split(':');
  return {
    find(word) {
      if (word === '') return undefined;
      const candidates = word.includes('/') ? [resolve(cwd, word)] : search.map((dir) => resolve(cwd, dir || '.', word));
      for (const path of candidates) {
        if (!isExecutable(path)) continue;
        const real = realOrUndefined(path);
        if (real !== undefined) return { path, real };
      }
      return undefined;
    },
    real: realOrUndefined,
  };
}
