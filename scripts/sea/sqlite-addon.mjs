// better-sqlite3 (the control plane's store) is a native addon, built against one Node ABI. The project's copy is
// built for the Node that runs the tests; the single executable needs one for the embedded Node. It is compiled
// from the installed package's own sources with npm's node-gyp against the embedded Node's headers (about a minute on
// two cores) and cached by better-sqlite3 version and Node version.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** npm's bundled node-gyp: the one npm scripts are given, else the one beside the global npm. */
function nodeGypScript() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const globalRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  const script = join(globalRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (!existsSync(script)) throw new Error(`sea: cannot find npm's node-gyp at ${script}; set npm_config_node_gyp`);
  return script;
}

/**
 * The environment for node-gyp: ours without npm's configuration. node-gyp takes every `npm_config_*` variable as an
 * option that overrides its command line, and under `npm run` a user's `nodedir=` (say, /usr) would make it build
 * for the Node running npm instead of the embedded one.
 */
function gypEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_|^npm_package_config_node_gyp_/i.test(k)));
}

/** Fails unless the embedded Node (`nodeDir`) can load `addon` (the ABI it was built for is that Node's). */
function checkLoads(nodeDir, addon) {
  try {
    execFileSync(join(nodeDir, 'bin', 'node'), ['-e', 'process.dlopen({ exports: {} }, process.argv[1])', addon], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`sea: the better-sqlite3 addon built for the embedded Node does not load in it:\n${String(e.stderr || e.message).slice(-2000)}`);
  }
}

/** The path of `better_sqlite3.node` built for the Node in `nodeDir` (version `nodeVersion`), built once per version pair. */
export function ensureSqliteAddon({ cacheDir, packageDir, nodeDir, nodeVersion }) {
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const cached = join(cacheDir, `better-sqlite3-${version}-node-${nodeVersion}-linux-x64.node`);
  if (existsSync(cached)) return cached;
  process.stderr.write(`sea: building better-sqlite3 ${version} for Node ${nodeVersion} (about a minute, cached after)\n`);
  const work = mkdtempSync(join(tmpdir(), 'okesu-sea-sqlite-'));
  try {
    for (const part of ['package.json', 'binding.gyp', 'deps', 'src', 'lib']) cpSync(join(packageDir, part), join(work, part), { recursive: true });
    try {
      execFileSync(process.execPath, [nodeGypScript(), 'rebuild', `--nodedir=${nodeDir}`, '-j', '2'], { cwd: work, env: gypEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    } catch (e) {
      throw new Error(`sea: building better-sqlite3 for Node ${nodeVersion} failed:\n${String(e.stderr || e.message).slice(-4000)}`);
    }
    mkdirSync(cacheDir, { recursive: true });
    const built = join(work, 'build', 'Release', 'better_sqlite3.node');
    checkLoads(nodeDir, built);
    const partial = `${cached}.partial-${process.pid}`;
    copyFileSync(built, partial);
    renameSync(partial, cached);
    return cached;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
