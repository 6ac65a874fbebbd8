import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { PRIVATE_FILE_MODE } from '../../src/files/private-dir.js';
import { fsyncDir, writeFully } from './fs-durable.js';

const SEGMENT_RE = /^seg-(\d{16})\.jsonl$/;

/** The file name of segment number `no`: `seg-<16 digits>.jsonl`, so names sort in append order. */
export function segmentName(no: number): string {
  return `seg-${String(no).padStart(16, '0')}.jsonl`;
}

/** A segment file found on disk. */
export interface SegmentRef {
  no: number;
  file: string;
}

/** The segment files in `dir`, oldest first. */
export async function listSegments(dir: string): Promise<SegmentRef[]> {
  const names = await fsp.readdir(dir);
  const found: SegmentRef[] = [];
  for (const name of names) {
    const match = SEGMENT_RE.exec(name);
    if (match) found.push({ no: Number(match[1]), file: path.join(dir, name) });
  }
  return found.sort((a, b) => a.no - b.no);
}

/** One complete line of a segment and the bytes it occupies on disk, newline included. */
export interface SegmentLine {
  text: string;
  bytes: number;
}

/** What a segment holds: its complete lines, and the length of any incomplete last line (cut off by a crash mid-append). */
export interface SegmentContent {
  lines: SegmentLine[];
  /** Bytes up to and including the last newline. */
  completeBytes: number;
  /** Bytes after the last newline; never fsync'd as a whole, so never reported durable. */
  tornBytes: number;
}

/** Reads a segment, splitting it into lines by byte offsets so each line's size on disk is exact. */
export async function readSegment(file: string): Promise<SegmentContent> {
  const buf = await fsp.readFile(file);
  const lines: SegmentLine[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) break;
    lines.push({ text: buf.toString('utf8', start, nl), bytes: nl - start + 1 });
    start = nl + 1;
  }
  return { lines, completeBytes: start, tornBytes: buf.length - start };
}

/** Cuts a file back to `size` bytes and makes that durable. */
export async function truncateDurably(file: string, size: number): Promise<void> {
  const handle = await fsp.open(file, 'r+');
  try {
    await handle.truncate(size);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// `ax` (append, create, fail if it exists, write only), with O_DSYNC where the platform has it (not Windows): each
// write then returns only once its data and the size needed to read it back are on disk, as write + fdatasync would,
// in one trip through the thread pool instead of two (a group commit per batch; ~25-30 µs of main-thread CPU a trip).
const SEGMENT_FLAGS = constants.O_DSYNC === undefined ? 'ax' : constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND | constants.O_DSYNC;

/** The segment being appended to: one handle, its size, and durable appends (an O_DSYNC write, or write then fdatasync). */
export class SegmentWriter {
  /** Bytes in the file. */
  size = 0;

  private constructor(
    readonly no: number,
    readonly file: string,
    private readonly handle: fsp.FileHandle,
    /** True when the file was opened O_DSYNC: a write is durable when it returns. */
    private readonly syncWrites: boolean,
  ) {}

  /** Creates segment `no` in `dir` (failing if it exists) and makes its directory entry durable. */
  static async create(dir: string, no: number): Promise<SegmentWriter> {
    const file = path.join(dir, segmentName(no));
    // Segments hold event transcripts: 0600 whatever the umask.
    const handle = await fsp.open(file, SEGMENT_FLAGS, PRIVATE_FILE_MODE);
    try {
      await handle.chmod(PRIVATE_FILE_MODE);
      await fsyncDir(dir);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return new SegmentWriter(no, file, handle, SEGMENT_FLAGS !== 'ax');
  }

  /** Appends whole lines and returns once they are on disk. On failure, tries to cut the file back so no partial line is left behind. */
  async append(buf: Buffer): Promise<void> {
    const before = this.size;
    try {
      await writeFully(this.handle, buf);
      // fdatasync is enough for appends: it flushes the data and the file size needed to read it back.
      if (!this.syncWrites) await this.handle.datasync();
      this.size += buf.length;
    } catch (err) {
      await this.handle.truncate(before).catch(() => undefined);
      throw err;
    }
  }

  /** Closes the handle. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
