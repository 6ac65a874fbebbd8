import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What a CP worker thread runs: its bundle file, or (from source) a bootstrap evaluated as CommonJS. */
export type WorkerThreadEntry = { kind: 'file'; url: URL } | { kind: 'eval'; code: string };

/** Where one kind of worker thread's code is, from source and from the bundle. */
export interface WorkerThreadSource {
  /** `import.meta.url` of the module that starts the thread: the source and the bundle file are found beside it. */
  here: string;
  /** The thread's module from source, relative to `here` (e.g. `./ingest-worker.ts`). */
  source: string;
  /** The bundled thread's file name, built by scripts/build.mjs beside dist/okesu.js (the SEA unpacks the same layout). */
  bundle: string;
  /** What the thread is, for the error when its bundle file is missing ("the ingest thread"). */
  what: string;
  /**
   * CommonJS statements run in the thread when its code cannot load (`workerData` and `message`, why it failed, in
   * scope): they answer the waiting caller with the failure, so it is not left to time out.
   */
  onLoadFailure: string;
}

/**
 * From source (vitest, tsx) the thread is its .ts module, loaded through tsx — Node 20 does not apply `--import tsx`
 * to a worker's own modules, so the thread registers tsx itself first. From the bundle it is its own bundle file; a
 * missing one throws here, at once, instead of showing as a thread that never answers.
 */
export function workerThreadEntry(s: WorkerThreadSource): WorkerThreadEntry {
  if (s.here.endsWith('.ts')) {
    const tsxDist = dirname(createRequire(s.here).resolve('tsx')); // tsx's "." export is dist/loader.mjs
    const api = pathToFileURL(join(tsxDist, 'esm', 'api', 'index.mjs')).href;
    const worker = new URL(s.source, s.here).href;
    const code = [
      `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); }).catch((err) => {`,
      "  const { workerData } = require('node:worker_threads');",
      '  const message = String(err && err.message);',
      s.onLoadFailure,
      '});',
    ].join('\n');
    return { kind: 'eval', code };
  }
  const url = new URL(`./${s.bundle}`, s.here);
  if (!existsSync(fileURLToPath(url))) throw new Error(`${s.what} ${fileURLToPath(url)} is missing beside ${fileURLToPath(s.here)}; rebuild okesu`);
  return { kind: 'file', url };
}
