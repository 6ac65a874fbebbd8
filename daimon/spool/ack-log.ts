import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { isErrno, writeFileAtomic } from './fs-durable.js';
import { parseAckLine } from './record-line.js';

/** The acknowledgement log's file name inside the spool directory. */
export const ACK_FILE = 'acks.jsonl';

/** Acknowledged record keys read back from `acks.jsonl`, and how many lines could not be read. */
export interface AckSet {
  keys: Set<string>;
  corrupt: number;
}

/** Reads `acks.jsonl`; a missing file is an empty set. A torn last line is expected (the log is never fsync'd) and not counted. */
export async function readAcks(dir: string): Promise<AckSet> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, ACK_FILE), 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { keys: new Set(), corrupt: 0 };
    throw err;
  }
  const keys = new Set<string>();
  let corrupt = 0;
  const lines = text.split('\n');
  lines.pop(); // the text after the last newline: empty, or a torn append
  for (const line of lines) {
    if (line === '') continue;
    const key = parseAckLine(line);
    if (key === undefined) corrupt++;
    else keys.add(key);
  }
  return { keys, corrupt };
}

// How long acks wait in memory before they are written, and how much may wait. A write is a trip through the thread
// pool (tens of µs of CPU); the CP acks every ingest batch, hundreds a second at 10,000 events/s.
const FLUSH_MS = 50;
const FLUSH_BYTES = 64 * 1024;

/**
 * The append-only acknowledgement log. Appends are buffered and written every FLUSH_MS (or once FLUSH_BYTES wait)
 * without fsync: a lost ack only makes a record be sent again, which the CP deduplicates. Every file operation runs on
 * one chain, so a compaction never races an append.
 */
export class AckLog {
  private buffer: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private writtenBytes = 0;
  private bufferedBytes = 0;
  private compactQueued = false;

  private constructor(
    private readonly file: string,
    private handle: fsp.FileHandle,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Replaces the log with `text` (the acks still worth keeping) and opens it for appending. */
  static async create(dir: string, text: string, onError: (err: unknown) => void): Promise<AckLog> {
    const file = path.join(dir, ACK_FILE);
    await writeFileAtomic(file, text);
    const log = new AckLog(file, await fsp.open(file, 'a'), onError);
    log.writtenBytes = Buffer.byteLength(text);
    return log;
  }

  /** Approximate size of the log on disk once buffered lines are written. */
  get bytes(): number {
    return this.writtenBytes + this.bufferedBytes;
  }

  /** Queues lines (each ending in a newline) to be appended soon. */
  append(text: string): void {
    this.buffer.push(text);
    this.bufferedBytes += text.length;
    if (this.bufferedBytes >= FLUSH_BYTES) this.flushSoon(0);
    else this.flushSoon(FLUSH_MS);
  }

  private flushSoon(delayMs: number): void {
    if (this.flushTimer) {
      if (delayMs > 0) return;
      clearTimeout(this.flushTimer);
    }
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.enqueue(() => this.writeBuffer());
    }, delayMs);
  }

  /** Rewrites the log atomically with what `snapshot()` returns when the rewrite runs; buffered lines are dropped, as the snapshot covers them. */
  compact(snapshot: () => string): void {
    if (this.compactQueued) return;
    this.compactQueued = true;
    this.enqueue(async () => {
      this.compactQueued = false;
      const text = snapshot();
      this.buffer = [];
      this.bufferedBytes = 0;
      await writeFileAtomic(this.file, text);
      const old = this.handle;
      this.handle = await fsp.open(this.file, 'a');
      await old.close();
      this.writtenBytes = Buffer.byteLength(text);
    });
  }

  /** Writes what is buffered and closes the file. */
  async close(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.enqueue(() => this.writeBuffer());
    await this.chain;
    await this.handle.close();
  }

  private enqueue(op: () => Promise<void>): void {
    this.chain = this.chain.then(op).catch((err: unknown) => this.onError(err));
  }

  private async writeBuffer(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.bufferedBytes = 0;
    await this.handle.write(text);
    this.writtenBytes += text.length;
  }
}
