'use strict';
// The main script of the single executable (dist/okesu-linux-x64). Node's SEA runs one CommonJS file that can
// require built-ins only, and okesu is an ESM bundle (top-level await) plus files it reads at run time: the console
// bundle, the built-in agents and better-sqlite3's native addon (a SEA cannot dlopen from inside its blob). So this
// launcher writes the embedded files once into a private directory, laid out like the package —
//   package.json, dist/okesu.js (+ its chunks dist/okesu-*.js), dist/console.js, dist/okesu-pg-worker.mjs, dist/okesu-ingest-worker.mjs, agents/…,
//   node_modules/{better-sqlite3,bindings,file-uri-to-path}/…
// — checks every file's SHA-256 against the manifest built with it, and imports dist/okesu.js from there.
const sea = require('node:sea');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const url = require('node:url');

const EXIT_SOFTWARE = 70; // sysexits EX_SOFTWARE: okesu itself could not start.

/**
 * Where to unpack, in order: $OKESU_SEA_DIR alone when set; else $XDG_CACHE_HOME/okesu, $HOME/.cache/okesu and
 * TMPDIR/okesu-UID, each tried in turn (a service user's HOME may not exist or be read-only, as under systemd's
 * ProtectHome; its private /tmp still works).
 */
function extractionBases(env) {
  if (env.OKESU_SEA_DIR) return [path.resolve(env.OKESU_SEA_DIR)];
  const bases = [];
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) bases.push(path.join(env.XDG_CACHE_HOME, 'okesu'));
  if (env.HOME && path.isAbsolute(env.HOME)) bases.push(path.join(env.HOME, '.cache', 'okesu'));
  bases.push(path.join(os.tmpdir(), `okesu-${process.getuid()}`));
  return bases;
}

/** Creates `dir` (0700) if needed and refuses one that another user could have written code into. */
function privateDir(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (st.isSymbolicLink()) throw new Error(`${dir} is a symbolic link; okesu unpacks only into a real directory of its own`);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (st.uid !== process.getuid()) throw new Error(`${dir} belongs to uid ${st.uid}, not to this user (uid ${process.getuid()})`);
  if ((st.mode & 0o022) !== 0) throw new Error(`${dir} is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`);
}

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

function readIfPresent(file) {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Makes `root/entry.path` hold exactly the embedded bytes: kept when its hash matches, else written atomically. */
function extract(root, entry) {
  const target = path.join(root, ...entry.path.split('/'));
  if (path.relative(root, target).startsWith('..')) throw new Error(`manifest path ${entry.path} leaves ${root}`);
  const present = readIfPresent(target);
  if (present !== undefined && sha256(present) === entry.sha256) return;
  const data = Buffer.from(sea.getAsset(entry.path));
  if (sha256(data) !== entry.sha256) throw new Error(`embedded ${entry.path} does not match its hash`);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const partial = `${target}.${process.pid}.partial`;
  try {
    fs.writeFileSync(partial, data, { mode: entry.mode });
    fs.renameSync(partial, target);
  } catch (e) {
    fs.rmSync(partial, { force: true });
    throw e;
  }
  // Another okesu may have raced us to the same directory; what counts is what is there now.
  if (sha256(fs.readFileSync(target)) !== entry.sha256) throw new Error(`${target} changed while okesu was starting`);
}

/** Unpacks into `base` and verifies every file; returns the bundle to import. */
function unpackInto(base, manifest) {
  privateDir(base);
  const root = path.join(base, manifest.id);
  privateDir(root);
  for (const entry of manifest.files) extract(root, entry);
  return path.join(root, 'dist', 'okesu.js');
}

/** Unpacks into the first base that works; returns the bundle to import. */
function prepare() {
  const manifest = JSON.parse(sea.getAsset('okesu-sea-manifest.json', 'utf8'));
  const problems = [];
  for (const base of extractionBases(process.env)) {
    try {
      const bundle = unpackInto(base, manifest);
      // Children that run this okesu again (the daimon's agent-catalog child) find the same files instead of a second copy.
      process.env.OKESU_SEA_DIR = base;
      return bundle;
    } catch (e) {
      problems.push(e && e.message ? e.message : String(e));
    }
  }
  throw new Error(problems.join('; '));
}

let bundle;
try {
  bundle = prepare();
} catch (e) {
  process.stderr.write(`okesu: cannot unpack the single executable: ${e.message} (set OKESU_SEA_DIR to a directory of this user's)\n`);
  process.exit(EXIT_SOFTWARE);
}
// As `node dist/okesu.js` would: an error escaping the bundle's top level is printed and exits 1.
import(url.pathToFileURL(bundle).href).catch((e) => {
  process.stderr.write(`${e && e.stack ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
