import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What a PostgreSQL connection thread runs: a file, or (from source) a bootstrap evaluated as CommonJS. */
export type PgWorkerEntry = { kind: 'file'; url: URL } | { kind: 'eval'; code: string };

/** The bundled worker's file name: built by scripts/build.mjs beside dist/okesu.js, unpacked beside it by the SEA. */
export const PG_WORKER_BUNDLE = 'okesu-pg-worker.mjs';

/**
 * Where the connection thread's code is. From source (vitest, tsx) it is postgres-worker.ts, loaded through tsx; from
 * the bundle dist/okesu.js (and the single executable, which unpacks the same layout) it is dist/okesu-pg-worker.mjs,
 * a bundle of its own: `pg` is parsed only by a process that opens a PostgreSQL store, never by the daimon.
 */
export function pgWorkerEntry(here: string = import.meta.url): PgWorkerEntry {
  if (here.endsWith('.ts')) {
    // Node 20 does not apply `--import tsx` to a worker's own modules, so the thread registers tsx itself first.
    const tsxDist = dirname(createRequire(here).resolve('tsx')); // tsx's "." export is dist/loader.mjs
    const api = pathToFileURL(join(tsxDist, 'esm', 'api', 'index.mjs')).href;
    const worker = new URL('./postgres-worker.ts', here).href;
    // A failure to load is answered like any request's failure (id -1: whichever request waits), not left to time out.
    const code = [
      `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); }).catch((err) => {`,
      "  const { workerData } = require('node:worker_threads');",
      "  workerData.port.postMessage({ id: -1, ok: false, error: { kind: 'connection', message: `the database thread could not start: ${err && err.message}` } });",
      '  const signal = new Int32Array(workerData.signal);',
      '  Atomics.add(signal, 0, 1);',
      '  Atomics.notify(signal, 0);',
      '});',
    ].join('\n');
    return { kind: 'eval', code };
  }
  const url = new URL(`./${PG_WORKER_BUNDLE}`, here);
  // A missing file would only show as a thread that never answers; say what is missing at once instead.
  if (!existsSync(fileURLToPath(url))) throw new Error(`the PostgreSQL driver ${fileURLToPath(url)} is missing beside ${fileURLToPath(here)}; rebuild okesu`);
  return { kind: 'file', url };
}
