import type { SegmentState } from './pending-index.js';
import { SegmentWriter } from './segment-file.js';

/** One `append` call on its way to disk: its serialised lines and what they occupy. */
export interface AppendItem {
  keys: string[];
  lines: string[];
  /** Bytes on disk of each line, newline included. */
  lineBytes: number[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** What the writer tells its owner. */
export interface GroupCommitHooks {
  /** A batch is durable in `seg`; called before any of its appends resolve. */
  committed(batch: readonly AppendItem[], seg: SegmentState): void;
  /** A batch could not be made durable; called before its appends reject. */
  failed(batch: readonly AppendItem[], err: unknown): void;
  /** A new segment file exists and is now the one written. */
  opened(seg: SegmentState): void;
  /** A segment will never be written again. */
  retired(seg: SegmentState): void;
}

/**
 * The single writer behind the spool. Everything queued in one turn of the event loop, and everything queued while a
 * batch is on its way to disk, goes out as the next batch: one write and one fdatasync shared by all of its appends.
 */
export class GroupCommitWriter {
  /** Group commits done. */
  commits = 0;
  private readonly queue: AppendItem[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private current: { writer: SegmentWriter; seg: SegmentState } | undefined;
  private writing = false;
  private kickScheduled = false;

  constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private nextSegmentNo: number,
    private readonly hooks: GroupCommitHooks,
  ) {}

  /** The segment being written, which must not be deleted even when all its records are acknowledged. */
  get currentSegment(): SegmentState | undefined {
    return this.current?.seg;
  }

  /** Queues an append for the next batch. */
  enqueue(item: AppendItem): void {
    this.queue.push(item);
    if (this.writing || this.kickScheduled) return;
    // Wait for the end of this turn of the event loop so every append made in it joins the same batch.
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      void this.run();
    });
  }

  /** Resolves once everything queued so far has been written (or has failed). */
  idle(): Promise<void> {
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes what is queued, then closes the current segment. */
  async close(): Promise<void> {
    await this.idle();
    await this.retireCurrent();
  }

  private async run(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) await this.writeBatch(this.takeBatch());
    } finally {
      this.writing = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Takes queued appends up to about one segment's worth, so one write stays bounded. */
  private takeBatch(): AppendItem[] {
    const batch: AppendItem[] = [];
    let bytes = 0;
    while (this.queue.length > 0 && (batch.length === 0 || bytes < this.segmentBytes)) {
      const item = this.queue.shift() as AppendItem;
      batch.push(item);
      bytes += item.bytes;
    }
    return batch;
  }

  private async writeBatch(batch: AppendItem[]): Promise<void> {
    let text = '';
    for (const item of batch) text += `${item.lines.join('\n')}\n`;
    try {
      const target = await this.segmentForWrite();
      await target.writer.append(Buffer.from(text, 'utf8'));
      this.commits++;
      this.hooks.committed(batch, target.seg);
      for (const item of batch) item.resolve();
    } catch (err) {
      // After a failed write or fsync the file's tail is unknown: never append to it again.
      await this.retireCurrent().catch(() => undefined);
      this.hooks.failed(batch, err);
      for (const item of batch) item.reject(err);
    }
  }

  private async segmentForWrite(): Promise<{ writer: SegmentWriter; seg: SegmentState }> {
    if (this.current && this.current.writer.size < this.segmentBytes) return this.current;
    await this.retireCurrent();
    const writer = await SegmentWriter.create(this.dir, this.nextSegmentNo++);
    const seg: SegmentState = { no: writer.no, file: writer.file, live: 0, acked: [], ackedBytes: 0 };
    this.current = { writer, seg };
    this.hooks.opened(seg);
    return this.current;
  }

  private async retireCurrent(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    this.hooks.retired(current.seg);
    await current.writer.close();
  }
}
