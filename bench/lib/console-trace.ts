import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { TraceEntry } from '../../tui/run/trace.js';

/** Reads an OKESU_CONSOLE_TRACE file as it grows: each `poll()` returns the entries appended since the last one. */
export function traceReader(file: string): { poll(): TraceEntry[]; close(): void } {
  let fd: number | undefined;
  let offset = 0;
  let partial = '';
  return {
    poll() {
      try {
        fd ??= openSync(file, 'r');
      } catch {
        return [];
      }
      const size = fstatSync(fd).size;
      if (size <= offset) return [];
      const buf = Buffer.alloc(size - offset);
      readSync(fd, buf, 0, buf.length, offset);
      offset = size;
      const lines = (partial + buf.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      return lines.filter(Boolean).map((l) => JSON.parse(l) as TraceEntry);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
    },
  };
}

/** Key entries of a trace (`{key, ts}`). */
export function isKey(e: TraceEntry): e is Extract<TraceEntry, { key: string }> {
  return 'key' in e;
}

/** Frame entries of a trace (`{frame, bytes, ts}`). */
export function isFrame(e: TraceEntry): e is Extract<TraceEntry, { frame: number }> {
  return 'frame' in e;
}

/** Memory entries of a trace (`{mem, ts}`, every second). */
export function isMem(e: TraceEntry): e is Extract<TraceEntry, { mem: unknown }> {
  return 'mem' in e;
}
