import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * A trace line: a chunk of keys read, one write of a frame to the terminal, or the process's memory (each second,
 * bytes). `ts` is epoch ms, sub-ms precise.
 */
export type TraceEntry =
  | { key: string; ts: number }
  | { frame: number; bytes: number; ts: number }
  | { mem: { rss: number; heapUsed: number; heapTotal: number; external: number }; ts: number };

/** Epoch milliseconds with performance.now()'s precision, comparable across processes on one machine. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * `OKESU_CONSOLE_TRACE=FILE` (opt-in, for the bench): appends `{key, ts}` whenever Ink reads input,
 * `{frame, bytes, ts}` after each write to the terminal and `{mem, ts}` every second, one JSON per line, so keypress
 * → redraw latency and the heap can be measured inside the console process instead of through terminal polling.
 * Returns the undo.
 */
export function startTrace(file: string, stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream): () => void {
  const fd = openSync(file, 'a', 0o600);
  const append = (entry: TraceEntry): void => {
    writeSync(fd, `${JSON.stringify(entry)}\n`);
  };
  // Ink pulls input with stdin.read() on 'readable'; a 'data' listener would switch the stream to flowing mode
  // and take the keys from it, so the read itself is wrapped.
  const read = stdin.read;
  stdin.read = function tracedRead(this: NodeJS.ReadStream, size?: number) {
    const chunk: unknown = read.call(this, size);
    if (chunk !== null) append({ key: String(chunk), ts: preciseNow() });
    return chunk;
  } as typeof stdin.read;
  const write = stdout.write;
  let frame = 0;
  stdout.write = function tracedWrite(this: NodeJS.WriteStream, ...args: Parameters<typeof write>) {
    const result = (write as (...a: unknown[]) => boolean).apply(this, args);
    const data = args[0];
    append({ frame: ++frame, bytes: typeof data === 'string' ? Buffer.byteLength(data) : (data as Uint8Array).length, ts: preciseNow() });
    return result;
  } as typeof stdout.write;
  const sampler = setInterval(() => {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    append({ mem: { rss, heapUsed, heapTotal, external }, ts: preciseNow() });
  }, 1000);
  sampler.unref();
  return () => {
    clearInterval(sampler);
    stdin.read = read;
    stdout.write = write;
    closeSync(fd);
  };
}
