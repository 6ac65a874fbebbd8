// Bundles the CLI into ESM files runnable with plain `node` (native better-sqlite3 stays external):
// dist/okesu.js, every role; dist/console.js, the terminal UI (Ink, React, yoga), which dist/okesu.js loads
// with a runtime import only when `okesu console` or `okesu demo` opens it; and dist/okesu-pg-worker.mjs, the
// PostgreSQL driver's thread, started only for a postgres:// store. Kept apart so that no other okesu
// process — the daimon above all, whose resident memory is a measured target — parses the UI or `pg`.
// Then the single executable dist/okesu-linux-x64 (scripts/sea/), skipped when its inputs are unchanged;
// `--bundles-only` leaves it out (`npm run demo` needs only the bundles).
import { build } from 'esbuild';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildSingleExecutable } from './sea/build-sea.mjs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

// zod's namespace object re-exports every message locale (~70 languages); okesu speaks English only. Leaving the
// others out shrinks the bundle every process parses, the daimon's resident memory above all.
const englishOnlyZodLocales = {
  name: 'english-only-zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes('/node_modules/zod/') ? { path: 'zod-locales-en', namespace: 'okesu-stub' } : undefined);
    b.onLoad({ filter: /^zod-locales-en$/, namespace: 'okesu-stub' }, () => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: new URL('../node_modules/zod/v4/locales/', import.meta.url).pathname,
      loader: 'js',
    }));
  },
};

// Ink imports `react-devtools-core` (not installed) only when DEV=true; a stub that says so keeps it out of the bundle.
const noReactDevtools = {
  name: 'no-react-devtools',
  setup(b) {
    b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'okesu-stub' }));
    b.onLoad({ filter: /^react-devtools-core$/, namespace: 'okesu-stub' }, () => ({
      contents: "const e = new Error('react-devtools-core is not bundled with okesu'); e.code = 'ERR_MODULE_NOT_FOUND'; throw e;",
      loader: 'js',
    }));
  },
};

// Ink lays out every frame cell by cell, measuring each character (string-width) and tokenizing each line's ANSI
// styles, with caches it throws away after the frame. Most lines and every character repeat from frame to frame,
// so caches kept across frames take that work off each redraw; the widths are emptied when they pass their bound.
// Styled lines are kept in two generations of 200 (five 40-row screens each): a line still drawn survives the
// turnover, and memory stays bounded (2,000 lines kept until a clear held ~50 MB of a 100 MB heap under the
// 1,000 findings/s feed, and their churn drove the heap to 260 MB between full collections). Tokens and styled chars
// come from tui/run/ink-styled-chars.ts (same output, less work, cheaper objects). The console's keypress → redraw latency and its
// memory under the feed are measured targets (docs/benchmarks.md). The build fails loudly if an Ink upgrade moves
// a line it patches.
const inkSharedOutputCaches = {
  name: 'ink-shared-output-caches',
  setup(b) {
    b.onLoad({ filter: /[\\/]ink[\\/]build[\\/]output\.js$/ }, (args) => {
      let source = readFileSync(args.path, 'utf8');
      const styledChars = new URL('../tui/run/ink-styled-chars.ts', import.meta.url).pathname;
      const clip = new URL('../tui/run/ink-clip.ts', import.meta.url).pathname;
      const patches = [
        // A line wholly inside its clipping box is not cut (tui/run/ink-clip.ts).
        ['import sliceAnsi from \'slice-ansi\';', `import { clipLine as okesuClipLine } from ${JSON.stringify(clip)};`],
        ['                            return sliceAnsi(line, from, to);', '                            return okesuClipLine(line, from, to, width);'],
        ['    caches = new OutputCaches();', '    caches = okesuCaches();'],
        ['import { styledCharsFromTokens, styledCharsToString, tokenize, } from \'@alcalzone/ansi-tokenize\';',
          `import { styledCharsFromTokens, styledCharsToString, tokenize } from ${JSON.stringify(styledChars)};`],
        ['            cached = styledCharsFromTokens(tokenize(line));',
          '            cached = okesuOlderStyledChars.get(line) ?? styledCharsFromTokens(tokenize(line));'],
      ];
      for (const [from, to] of patches) {
        if (!source.includes(from)) throw new Error(`${args.path}: "${from.trim()}" not found; revisit the ink-shared-output-caches patch`);
        source = source.replace(from, to);
      }
      const shared = [
        'const okesuSharedCaches = new OutputCaches();',
        'let okesuOlderStyledChars = new Map();',
        'function okesuCaches() {',
        '    const c = okesuSharedCaches;',
        '    if (c.styledChars.size > 200) {',
        '        okesuOlderStyledChars = c.styledChars;',
        '        c.styledChars = new Map();',
        '    }',
        '    if (c.blockWidths.size > 2000) c.blockWidths.clear();',
        '    if (c.widths.size > 20000) c.widths.clear();',
        '    return c;',
        '}',
      ].join('\n');
      return { contents: `${source}\n${shared}\n`, loader: 'js' };
    });
  },
};

// string-width (a regex per grapheme) runs for every text node of every frame: Ink measures each node
// (widest-line) and the views pad and cut cells with it. Widths of a string never change, so the console's copy
// answers repeats from a bounded cache. Calls with options (ANSI counting and the like) go straight through.
const memoizedStringWidth = {
  name: 'memoized-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData?.okesuReal) return undefined;
      const real = await b.resolve('string-width', { resolveDir: args.resolveDir, kind: args.kind, pluginData: { okesuReal: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'okesu-memo-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'okesu-memo-string-width' }, (args) => ({
      contents: [
        `import measure from ${JSON.stringify(args.path)};`,
        'const widths = new Map();',
        'export default function stringWidth(text, options) {',
        '  if (options !== undefined || typeof text !== "string") return measure(text, options);',
        '  let width = widths.get(text);',
        '  if (width === undefined) {',
        '    if (widths.size >= 20000) widths.clear();',
        '    width = measure(text);',
        '    widths.set(text, width);',
        '  }',
        '  return width;',
        '}',
      ].join('\n'),
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

// ssh2 (okesu deploy) tries optional native add-ons inside try/catch and falls back to pure JS: a bundle (and the
// single executable) cannot carry .node files, so those requires resolve to a module that throws, as when not built.
const noNativeSsh2Addons = {
  name: 'no-native-ssh2-addons',
  setup(b) {
    b.onResolve({ filter: /(\.node$|^cpu-features$)/ }, (args) =>
      /[\\/]node_modules[\\/](ssh2|cpu-features)[\\/]/.test(args.importer) ? { path: args.path, namespace: 'okesu-no-addon' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'okesu-no-addon' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`native add-on ${args.path} is not bundled`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
    // Two of its files read __dirname, which an ESM bundle lacks: the pure-JS Poly1305 (Emscripten; its wasm is inlined
    // as a data URI) and the Windows-only Pageant helper's path. Neither needs a real directory.
    b.onLoad({ filter: /[\\/]ssh2[\\/]lib[\\/](agent|protocol[\\/]crypto[\\/]poly1305)\.js$/ }, (args) => ({
      contents: `var __dirname = '/';\n${readFileSync(args.path, 'utf8')}`,
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
  external: ['better-sqlite3'],
  banner: { js: '#!/usr/bin/env node\nimport{createRequire as __okesuCreateRequire}from"node:module";const require=__okesuCreateRequire(import.meta.url);' },
  logLevel: 'warning',
};

// Chunk names carry content hashes: a stale chunk left from an earlier build would be embedded in the executable.
rmSync('dist/sea-bundle', { recursive: true, force: true });
await Promise.all([
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/okesu.js',
    define: { __OKESU_VERSION__: JSON.stringify(version) },
    plugins: [englishOnlyZodLocales, noNativeSsh2Addons],
  }),
  // The single executable's copy of the CLI: the same code split into chunks (dist/sea-bundle/, unpacked by the
  // launcher beside console.js), so a process parses only what its command imports. dist/okesu.js itself stays one
  // file: install and upgrade copy that one file, and a lone copy of it runs a daimon (test/e2e/standalone-daimon).
  // Measured (daimon-footprint): the daimon parses ~1.6 of 4.7 MB, and V8 no longer compiles one module scope
  // holding every role's declarations, whose parser zones (32 KB malloc segments freed in the middle of glibc's
  // heap) stayed resident: idle RSS of the same daimon under one Node, 77 → 62 MiB (anon 34 → 19 MiB).
  build({
    ...common,
    entryPoints: { okesu: 'src/cli/main.ts' },
    outdir: 'dist/sea-bundle',
    sourcemap: false, // not embedded (nor is dist/okesu.js.map)
    splitting: true,
    // Beside the entry, not in a subdirectory: code that finds console.js or the pg worker next to itself
    // (import.meta.url) must see the same directory from every chunk.
    chunkNames: 'okesu-[name]-[hash]',
    define: { __OKESU_VERSION__: JSON.stringify(version) },
    plugins: [englishOnlyZodLocales, noNativeSsh2Addons],
  }),
  build({
    ...common,
    entryPoints: ['tui/run-console.tsx'],
    outfile: 'dist/console.js',
    banner: { js: common.banner.js.replace('#!/usr/bin/env node\n', '') },
    // React's production build: the development one re-checks every render (keypress latency is a measured target).
    define: { __OKESU_VERSION__: JSON.stringify(version), 'process.env.NODE_ENV': '"production"' },
    plugins: [englishOnlyZodLocales, noReactDevtools, inkSharedOutputCaches, memoizedStringWidth],
  }),
  // The PostgreSQL connection's thread (src/cp/store/sql/postgres-worker.ts): started from dist/okesu.js only when the
  // store is a postgres:// URL, so `pg` stays out of every other process. pg-native is an optional peer pg loads only
  // when asked for (`pg.native`), never here.
  build({
    ...common,
    entryPoints: ['src/cp/store/sql/postgres-worker.ts'],
    outfile: 'dist/okesu-pg-worker.mjs',
    banner: { js: common.banner.js.replace('#!/usr/bin/env node\n', '') },
    external: ['pg-native'],
  }),
  // The ingest thread (src/cp/ingest-worker.ts): the SQL of each ingest commit on the second core, started from
  // dist/okesu.js by a CP on SQLite. better-sqlite3 stays external as in the CLI (a native addon, loaded by require).
  build({
    ...common,
    entryPoints: ['src/cp/ingest-worker.ts'],
    outfile: 'dist/okesu-ingest-worker.mjs',
    banner: { js: common.banner.js.replace('#!/usr/bin/env node\n', '') },
  }),
]);
chmodSync('dist/okesu.js', 0o755);
if (!process.argv.includes('--bundles-only')) buildSingleExecutable();
