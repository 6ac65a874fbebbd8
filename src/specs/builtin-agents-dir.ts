import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OkesuError } from '../errors.js';

/**
 * The package's built-in `agents/` directory: the nearest ancestor of this module that holds both
 * `agents/` and `package.json` (works from `src/specs/` in a checkout, from `dist/okesu.js`, and from the single
 * executable, whose launcher unpacks `package.json`, `dist/` and `agents/` in that same layout: scripts/sea/).
 */
export function builtinAgentsDir(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const agents = join(dir, 'agents');
    if (existsSync(join(dir, 'package.json')) && existsSync(agents) && statSync(agents).isDirectory()) return agents;
    const parent = dirname(dir);
    if (parent === dir) throw new OkesuError('OKS_ERR_CONFIG', `cannot find the built-in agents/ directory above ${dirname(from)}`);
    dir = parent;
  }
}
