import { cutUtf8 } from '../run/line-splitter.js';

/** Output caps of the host tools in bytes (SPEC §4.3). */
export const TOOL_CAPS = {
  bash: 64 * 1024,
  read_file: 128 * 1024,
  list_files: 32 * 1024,
  search: 32 * 1024,
} as const;

/** The note appended when a cap bites, e.g. `[output truncated at 65536 bytes]`. */
export function truncationNote(capBytes: number, detail?: string): string {
  return `[output truncated at ${capBytes} bytes${detail ? `; ${detail}` : ''}]`;
}

/** True when `buf` holds a NUL byte: treated as binary and not shown. */
export function looksBinary(buf: Uint8Array): boolean {
  return buf.indexOf(0) !== -1;
}

/** A file name or path as shown to the model: as is, or JSON-quoted when it holds control characters (a newline could forge a line). */
export function showName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(name) ? JSON.stringify(name) : name;
}

/**
 * Keeps the first `capBytes` bytes of a byte stream and counts the rest. `text()` is cut on a UTF-8
 * character boundary so the model never sees half a character.
 */
export class OutputCap {
  private readonly parts: Buffer[] = [];
  private kept = 0;
  /** Every byte pushed, kept or not. */
  total = 0;

  constructor(readonly capBytes: number) {}

  /** True once more bytes arrived than the cap keeps. */
  get truncated(): boolean {
    return this.total > this.capBytes;
  }

  /** Adds a chunk; bytes past the cap are only counted. */
  push(chunk: Buffer): void {
    this.total += chunk.length;
    // One byte past the cap is kept so `text()` can tell whether a character crosses the cap.
    const room = this.capBytes + 1 - this.kept;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.parts.push(Buffer.from(part));
    this.kept += part.length;
  }

  /** The kept bytes as text. */
  text(): string {
    return cutUtf8(Buffer.concat(this.parts, this.kept), this.capBytes).toString('utf8');
  }
}

/** Collects lines of text up to a byte cap; a line that does not fit whole is left out and marks the result truncated. */
export class LineCap {
  private readonly lines: string[] = [];
  private bytes = 0;
  truncated = false;

  constructor(readonly capBytes: number) {}

  /** Adds a line if it fits; returns false (and marks truncation) when it does not. */
  add(line: string): boolean {
    const size = Buffer.byteLength(line) + 1;
    if (this.truncated || this.bytes + size > this.capBytes) {
      this.truncated = true;
      return false;
    }
    this.lines.push(line);
    this.bytes += size;
    return true;
  }

  /** How many lines were kept. */
  get count(): number {
    return this.lines.length;
  }

  /** The kept lines joined with newlines. */
  text(): string {
    return this.lines.join('\n');
  }
}
