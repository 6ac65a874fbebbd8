import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isSingleExecutable } from '../lifecycle/running-executable.js';

/** File name of the single executable `npm run build` writes beside the bundle. */
export const SINGLE_EXECUTABLE_NAME = 'okesu-linux-x64';

/**
 * The file `okesu deploy` uploads: `--executable`, else the running single executable itself, else
 * `okesu-linux-x64` beside the running bundle (`entry`). Throws an Error saying what to do when there is none.
 */
export function deployExecutable(flag: string | undefined, entry: string | undefined): string {
  if (flag !== undefined) {
    if (!existsSync(flag) || !statSync(flag).isFile()) throw new Error(`--executable ${flag}: no such file`);
    return flag;
  }
  if (isSingleExecutable()) return process.execPath;
  const beside = entry === undefined ? undefined : join(dirname(entry), SINGLE_EXECUTABLE_NAME);
  if (beside !== undefined && existsSync(beside)) return beside;
  throw new Error(`no executable to deploy: build ${SINGLE_EXECUTABLE_NAME} (npm run build) or pass --executable FILE`);
}
