/** One line of a child's output; `truncated` when it was longer than the cap and was cut. */
export interface CappedLine {
  text: string;
  truncated: boolean;
}

/**
 * Splits a byte stream into lines of at most `maxBytes` bytes (UTF-8), holding at most one line in
 * memory. A longer line is cut at the cap (on a character boundary) and the rest of it, up to the next
 * newline, is discarded. `\r\n` ends a line like `\n`.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;

  constructor(private readonly maxBytes: number) {}

  /** Feeds a chunk; yields the lines it completes (and a cut line as soon as it exceeds the cap). */
  *push(chunk: Buffer): Generator<CappedLine> {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.discarding && nl !== -1 && this.parts.length === 0 && end - start <= this.maxBytes) {
        // A whole line inside this chunk (the usual case): decoded where it lies, without gathering it first.
        yield { text: chunk.toString('utf8', start, end > start && chunk[end - 1] === 0x0d ? end - 1 : end), truncated: false };
      } else if (!this.discarding) {
        this.parts.push(chunk.subarray(start, end));
        this.size += end - start;
        if (this.size > this.maxBytes) {
          yield this.take(true);
          this.discarding = nl === -1;
        } else if (nl !== -1) {
          yield this.take(false);
        }
      } else if (nl !== -1) {
        this.discarding = false;
      }
      start = end + 1;
    }
  }

  /** Flushes the last line when the stream ends without a newline. */
  *end(): Generator<CappedLine> {
    if (this.size > 0 || this.parts.length > 0) yield this.take(false);
    this.discarding = false;
  }

  private take(truncated: boolean): CappedLine {
    let buf: Buffer = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    if (truncated) buf = cutUtf8(buf, this.maxBytes);
    else if (buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, -1);
    return { text: buf.toString('utf8'), truncated };
  }
}

/** The first `max` bytes of `buf`, backed off so no UTF-8 character is split. */
export function cutUtf8(buf: Buffer, max: number): Buffer {
  if (buf.length <= max) return buf;
  let end = max;
  // Continuation bytes are 10xxxxxx; step back to the lead byte of the character crossing the cut.
  while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end);
}
