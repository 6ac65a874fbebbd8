// Bundles the CLI into one ESM file, dist/okesu.js, runnable with plain `node` (native better-sqlite3 stays external).
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

// zod's namespace object re-exports every message locale (~70 languages); okesu speaks English only. Leaving the
// others out shrinks the bundle every process parses, the daimon's resident memory above all.
const englishOnlyZodLocales = {
  name: 'english-only-zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes('/node_modules/zod/') ? { path: 'zod-locales-en', namespace: 'okesu-stub' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'okesu-stub' }, () => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: new URL('../node_modules/zod/v4/locales/', import.meta.url).pathname,
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/okesu.js',
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
  define: { __OKESU_VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
  plugins: [englishOnlyZodLocales],
});
chmodSync('dist/okesu.js', 0o755);
