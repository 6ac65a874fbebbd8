import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { healthSchema, lifecyclePaths, upgradeResultSchema, type HealthMark, type UpgradeResult } from '../../daimon/lifecycle/state-layout.js';

const BUNDLE = resolve(import.meta.dirname, '../../dist/okesu.js');

/**
 * Makes okesu "version" VERSION for upgrade tests: the bundle `npm run build` made (an executable ESM script with a
 * shebang), with its one version constant restamped, as `dir/okesu-VERSION.js`. Restamping the real build (rather
 * than bundling again) keeps every build step, plugins included, the same as the release's.
 */
export function buildVersion(version: string, dir: string): string {
  const text = readFileSync(BUNDLE, 'utf8');
  const stamp = /("src\/version\.ts"\(\)\{"use strict";VERSION=)"[^"]*"/g;
  const found = text.match(stamp)?.length ?? 0;
  if (found !== 1) throw new Error(`dist/okesu.js: expected one version constant to restamp, found ${found} (did the build change?)`);
  const outfile = join(dir, `okesu-${version}.js`);
  writeFileSync(outfile, text.replace(stamp, `$1${JSON.stringify(version)}`), { mode: 0o755 });
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
