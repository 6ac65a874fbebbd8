import { Worker } from 'node:worker_threads';

/** A line that matched: its 1-based number and its text (cut to the line cap). */
export interface LineMatch {
  line: number;
  text: string;
}

/** The matches of one text, and whether more lines matched past the per-text limit. */
export interface TextMatches {
  matches: LineMatch[];
  more: boolean;
}

/** Matches a regex against texts off the main thread; `close` stops it, even in the middle of a match. */
export interface RegexWorker {
  match(text: string): Promise<TextMatches>;
  close(): Promise<void>;
}

// Plain JavaScript run with `eval: true` (a CommonJS script), so it works the same under tsx, vitest and the
// esbuild bundle. A regular expression from the model can backtrack for minutes on crafted host data: in a
// worker, a timeout can still stop it, and the daimon's event loop keeps its heartbeats.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const re = new RegExp(workerData.source, workerData.flags);
parentPort.on('message', ({ text }) => {
  const matches = [];
  let more = false;
  let start = 0;
  for (let n = 1; start <= text.length; n++) {
    let end = text.indexOf('\\n', start);
    if (end === -1) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith('\\r')) line = line.slice(0, -1);
    if (re.test(line)) {
      if (matches.length === workerData.maxLines) { more = true; break; }
      matches.push({ line: n, text: line.length > workerData.maxChars ? line.slice(0, workerData.maxChars) + '…' : line });
    }
    start = end + 1;
  }
  parentPort.postMessage({ matches, more });
});
`;

/** Options of a regex worker: the pattern, its flags, and the per-text limits of what comes back. */
export interface RegexWorkerOptions {
  source: string;
  flags: string;
  /** Most matching lines returned per text. */
  maxLines: number;
  /** Longest line text returned (longer lines end in `…`). */
  maxChars: number;
}

/** Starts a worker thread that matches `source` against the texts it is given, one at a time. */
export function startRegexWorker(options: RegexWorkerOptions): RegexWorker {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: options,
    resourceLimits: { maxOldGenerationSizeMb: 128 },
    stdout: true,
    stderr: true,
  });
  worker.unref();
  let failure: Error | undefined;
  let pending: { resolve(m: TextMatches): void; reject(e: Error): void } | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    pending?.reject(err);
    pending = undefined;
  };
  worker.on('message', (m: TextMatches) => {
    pending?.resolve(m);
    pending = undefined;
  });
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('regex worker stopped')));

  return {
    match(text) {
      if (failure) return Promise.reject(failure);
      if (pending) return Promise.reject(new Error('regex worker is busy'));
      return new Promise<TextMatches>((resolve, reject) => {
        pending = { resolve, reject };
        worker.postMessage({ text });
      });
    },
    async close() {
      fail(new Error('regex worker closed'));
      await worker.terminate();
    },
  };
}
