import { build } from 'esbuild';
import { basename, resolve } from 'node:path';

/** How to start a bench child process: the script and the node flags before it. */
export interface ChildScript {
  script: string;
  execArgv: string[];
}

const OUT_DIR = resolve(import.meta.dirname, '../../dist/bench');
const bundles = new Map<string, Promise<ChildScript>>();

/**
 * A TypeScript child entry (simulators, the echo server) bundled once per run into dist/bench/NAME.mjs, packages left
 * to node_modules. Plain node loads the bundle in ~1.2 s where `--import tsx` takes ~2.5–3.7 s (two simulators
 * forked on the shared 2-core machine, load ~17), and a run forks a dozen. Falls back to tsx when bundling fails.
 */
export function childScript(entry: string): Promise<ChildScript> {
  let bundled = bundles.get(entry);
  if (!bundled) {
    const outfile = resolve(OUT_DIR, `${basename(entry, '.ts')}.mjs`);
    bundled = build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent' })
      .then(() => ({ script: outfile, execArgv: [] }))
      .catch(() => ({ script: entry, execArgv: ['--import', 'tsx'] }));
    bundles.set(entry, bundled);
  }
  return bundled;
}
