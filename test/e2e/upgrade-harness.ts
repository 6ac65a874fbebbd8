import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { healthSchema, lifecyclePaths, upgradeResultSchema, type HealthMark, type UpgradeResult } from '../../daimon/lifecycle/state-layout.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Builds okesu as a "version" for upgrade tests: the CLI bundled like scripts/build.mjs does (an executable ESM script
 * with a shebang), stamped `version`, into `dir/okesu-VERSION.js`.
 */
export async function buildVersion(version: string, dir: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(dir, `okesu-${version}.js`);
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/cli/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    legalComments: 'none',
    minifyWhitespace: true,
    minifySyntax: true,
    external: ['better-sqlite3'],
    banner: { js: '#!/usr/bin/env node\nimport{createRequire as __okesuCreateRequire}from"node:module";const require=__okesuCreateRequire(import.meta.url);' },
    define: { __OKESU_VERSION__: JSON.stringify(version) },
    logLevel: 'warning',
  });
  chmodSync(outfile, 0o755);
  return outfile;
}

/** A broken "version": a shell script that exits with `code` at start, or (`hang`) runs and never reaches its CP. */
export function brokenVersion(dir: string, name: string, kind: { exit: number } | 'hang'): string {
  const file = join(dir, name);
  const body = kind === 'hang' ? 'trap "exit 0" TERM\nwhile :; do sleep 0.2; done' : `exit ${kind.exit}`;
  writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  chmodSync(file, 0o755);
  return file;
}

function readJson<T>(path: string, parse: (v: unknown) => T): T | undefined {
  try {
    return parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return undefined;
  }
}

/** The daimon's health mark in `stateDir`, if any. */
export function health(stateDir: string): HealthMark | undefined {
  return readJson(lifecyclePaths(stateDir).health, (v) => healthSchema.parse(v));
}

/** The last upgrade's outcome in `stateDir`, if any. */
export function upgradeResult(stateDir: string): UpgradeResult | undefined {
  return readJson(lifecyclePaths(stateDir).result, (v) => upgradeResultSchema.parse(v));
}
