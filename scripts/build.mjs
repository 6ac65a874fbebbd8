// Bundles the CLI into one ESM file, dist/okesu.js, runnable with plain `node` (native better-sqlite3 stays external).
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/okesu.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'none',
  external: ['better-sqlite3'],
  banner: { js: '#!/usr/bin/env node\nimport{createRequire as __okesuCreateRequire}from"node:module";const require=__okesuCreateRequire(import.meta.url);' },
  define: { __OKESU_VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
});
chmodSync('dist/okesu.js', 0o755);
