// Builds dist/okesu-linux-x64: Node's single-executable application (SEA) of okesu, with the embedded Node of
// node-runtime.mjs. The blob holds scripts/sea/launcher.cjs (the SEA's CommonJS main) and, as assets, the files it
// unpacks: the bundles, the built-in agents and better-sqlite3 with an addon built for the embedded Node. The
// executable is rebuilt only when the hash of its inputs (kept next to it) changes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { EMBEDDED_NODE_VERSION, ensureNodeRuntime } from './node-runtime.mjs';
import { ensureSqliteAddon } from './sqlite-addon.mjs';

/** The fuse postject flips so that Node looks for the blob (fixed by Node for every SEA). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const MANIFEST_ASSET = 'okesu-sea-manifest.json';

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** Every file under `dir`, as paths relative to `root` with forward slashes, in a stable order. */
function filesUnder(root, dir) {
  const out = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...filesUnder(root, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/** What the launcher unpacks: package path → source file on this machine (the layout of an installed package). */
function embeddedFiles(root, stageDir, addon) {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  // "type": "module" makes dist/*.js ESM; package.json + agents/ is what builtinAgentsDir() looks for.
  const packageJson = join(stageDir, 'package.json');
  writeFileSync(packageJson, `${JSON.stringify({ name: 'okesu', version, private: true, type: 'module' })}\n`);
  const files = new Map([['package.json', packageJson]]);
  // The CLI split into chunks (scripts/build.mjs: dist/sea-bundle/okesu.js and its okesu-*.js), unpacked into dist/.
  for (const rel of filesUnder(root, 'dist/sea-bundle')) {
    if (rel.endsWith('.js')) files.set(`dist/${rel.slice('dist/sea-bundle/'.length)}`, join(root, rel));
  }
  files.set('dist/console.js', join(root, 'dist/console.js'));
  files.set('dist/okesu-pg-worker.mjs', join(root, 'dist/okesu-pg-worker.mjs'));
  files.set('dist/okesu-ingest-worker.mjs', join(root, 'dist/okesu-ingest-worker.mjs'));
  for (const rel of filesUnder(root, 'agents')) files.set(rel, join(root, rel));
  const modules = join(root, 'node_modules');
  for (const rel of ['better-sqlite3/package.json', ...filesUnder(modules, 'better-sqlite3/lib'), 'bindings/package.json', 'bindings/bindings.js', 'file-uri-to-path/package.json', 'file-uri-to-path/index.js']) {
    files.set(`node_modules/${rel}`, join(modules, rel));
  }
  files.set('node_modules/better-sqlite3/build/Release/better_sqlite3.node', addon);
  return files;
}

function run(command, args, what) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`sea: ${what} failed (${command} ${args.join(' ')}):\n${e.stderr || e.message}`);
  }
}

/** Builds `out` (default dist/okesu-linux-x64) unless its inputs are unchanged; returns whether it built. */
export function buildSingleExecutable({ root = process.cwd(), out = join(root, 'dist', 'okesu-linux-x64') } = {}) {
  const began = performance.now();
  const cacheDir = join(root, 'node_modules', '.cache', 'okesu-sea');
  // Per process: two builds at once (a test run and a bench run) never share half-written files.
  const stageDir = join(cacheDir, `stage-${process.pid}`);
  rmSync(stageDir, { recursive: true, force: true });
  mkdirSync(stageDir, { recursive: true });

  const nodeDir = ensureNodeRuntime(cacheDir);
  const addon = ensureSqliteAddon({ cacheDir, packageDir: join(root, 'node_modules', 'better-sqlite3'), nodeDir, nodeVersion: EMBEDDED_NODE_VERSION });
  const files = embeddedFiles(root, stageDir, addon);
  const entries = [...files].map(([path, source]) => ({ path, sha256: sha256(readFileSync(source)), mode: path.endsWith('.node') ? 0o700 : 0o600 }));
  // The extraction directory is named by the content, so two versions never share (or overwrite) one.
  const id = sha256(entries.map((e) => `${e.path}\0${e.sha256}\n`).join('')).slice(0, 16);

  const launcher = readFileSync(new URL('./launcher.cjs', import.meta.url));
  const tools = ['build-sea.mjs', 'node-runtime.mjs', 'sqlite-addon.mjs'].map((f) => readFileSync(new URL(`./${f}`, import.meta.url)));
  const postjectVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'postject', 'package.json'), 'utf8')).version;
  const inputs = sha256([EMBEDDED_NODE_VERSION, postjectVersion, id, sha256(launcher), ...tools.map(sha256)].join('\n'));
  const inputsFile = `${out}.inputs`;
  if (existsSync(out) && existsSync(inputsFile) && readFileSync(inputsFile, 'utf8').trim() === inputs) {
    rmSync(stageDir, { recursive: true, force: true });
    return false;
  }

  const manifest = join(stageDir, MANIFEST_ASSET);
  writeFileSync(manifest, JSON.stringify({ id, files: entries }));
  const blob = join(stageDir, 'okesu.blob');
  const config = {
    main: resolve(new URL('./launcher.cjs', import.meta.url).pathname),
    output: blob,
    disableExperimentalSEAWarning: true,
    assets: { [MANIFEST_ASSET]: manifest, ...Object.fromEntries(files) },
  };
  writeFileSync(join(stageDir, 'sea-config.json'), JSON.stringify(config, null, 2));
  const node = join(nodeDir, 'bin', 'node');
  // The blob must come from the Node it is injected into (the format is per version).
  run(node, ['--experimental-sea-config', join(stageDir, 'sea-config.json')], 'making the SEA blob');

  const partial = `${out}.partial-${process.pid}`;
  copyFileSync(node, partial);
  chmodSync(partial, 0o755);
  // Strip before injecting: stripping afterwards drops the injected blob. Saves ~80 MB of symbols.
  run('strip', [partial], 'stripping the node binary');
  const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js');
  run(process.execPath, [postject, partial, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], 'injecting the SEA blob (postject)');
  // postject writes the whole 110 MiB binary in one write(); a process started from that freshly written file maps
  // ~14 MiB more of it than from any copy of the same bytes (the idle daimon's RssFile 66.0 vs 52.5 MiB, on ext4 /
  // Linux 6.18; the page cache's large folios, as far as we can tell). Hosts get a copy (download, install), so the build
  // leaves one too: what it measures is what they run.
  const injected = `${partial}.injected`;
  renameSync(partial, injected);
  copyFileSync(injected, partial);
  rmSync(injected, { force: true });
  renameSync(partial, out);
  writeFileSync(inputsFile, `${inputs}\n`);
  rmSync(stageDir, { recursive: true, force: true });
  const mib = (statSync(out).size / 1024 / 1024).toFixed(1);
  process.stderr.write(`sea: built ${relative(root, out)} (Node ${EMBEDDED_NODE_VERSION}, ${mib} MiB) in ${((performance.now() - began) / 1000).toFixed(1)} s\n`);
  return true;
}
