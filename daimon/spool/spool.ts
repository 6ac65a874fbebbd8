/*
 * The daimon's durable event spool: every event record is on disk, fsync'd, before anyone may send it, and leaves only
 * when the CP acknowledges it. Plain files, no native modules.
 *
 * Layout of `dir`:
 *   seg-<16 digits>.jsonl  one record (`{run_id, seq, event}`) per line, in append order. New records go to the newest
 *                          segment, which rotates once it reaches `segmentBytes`. A segment is never written again once
 *                          it rotates, nor after a restart (a reopened spool starts a fresh segment).
 *   acks.jsonl             one `[run_id, seq]` per acknowledged record, appended without fsync: a lost ack only makes a
 *                          record be sent again, and the CP deduplicates by (run_id, seq). Losing a record is the bug
 *                          to avoid, never sending one twice.
 *
 * Writes (group commit): `append` serialises its records at once and queues them; a single writer takes everything
 * queued, writes it with one write and one fdatasync, then indexes the records and resolves every caller in the batch.
 * Whatever is appended while a batch is on its way to disk forms the next batch, so under load batches grow and the
 * fsync cost is shared. `pending()` only ever shows durable records.
 *
 * Memory: un-acked records are kept as their JSON lines (about their size on disk, which `maxBytes` bounds), in a
 * Map for acks plus an array in append order; `pending`/`pendingFrom` parse only the page asked for, and a sender pages
 * with the cursor `pendingFrom` returns instead of rescanning what it has already sent. `pendingLinesFrom` hands out
 * the lines themselves, which are the records' wire form.
 *
 * Acks: each segment counts its un-acked records; a segment that reaches zero and is not being written is deleted.
 * The ack log is compacted when it is large and mostly about deleted segments: it is rewritten atomically (tmp, fsync,
 * rename, fsync dir) with only the acks of records in segments that still exist.
 *
 * Recovery (open): read the ack log, then every segment in order; cut an incomplete last line (an append cut short by a
 * crash: its batch never finished its fsync, so it was never reported durable nor sent); skip and report corrupt lines;
 * index every record not acked, in file order; delete segments with nothing left; rewrite the ack log. A crash at any
 * instant leaves every reported-durable record either in a segment or acknowledged.
 *
 * Bounds: `maxRecords`/`maxBytes` cap un-acked data (durable plus being written). An append that does not fit waits, in
 * order, until acks make room; the first wait of an episode calls `onFull` once. The episode ends when nothing waits and
 * use is back under 90% of both limits. An append larger than the whole spool is let in when the spool is empty.
 */
import { promises as fsp } from 'node:fs';
import { OkesuError } from '../../src/errors.js';
import { ensurePrivateDir } from '../../src/files/private-dir.js';
import type { EventRecord, RecordKey } from '../../src/protocol/tunnel.js';
import { AckLog } from './ack-log.js';
import type { PendingIndex, SegmentState } from './pending-index.js';
import { ackLine, recordKey, recordLine } from './record-line.js';
import { recover, type RecoveryReport, type SpoolLogger } from './recover.js';
import { GroupCommitWriter, type AppendItem } from './group-commit.js';

export type { RecoveryReport, SpoolLogger } from './recover.js';

/** How to open a spool. */
export interface SpoolOptions {
  /** Directory holding the segment files and the ack log; created if missing. */
  dir: string;
  /** Size at which the current segment rotates (default 4 MiB). */
  segmentBytes?: number;
  /** Most un-acked bytes on disk before appends wait (default 256 MiB). */
  maxBytes?: number;
  /** Most un-acked records before appends wait (default 1,000,000). */
  maxRecords?: number;
  /** Size past which the ack log is compacted, if mostly stale (default 1 MiB). */
  ackCompactBytes?: number;
  /** Called once when an append first has to wait for room, per full episode. */
  onFull?: (info: { records: number; bytes: number }) => void;
  /** Where recovery problems and write failures are reported. */
  log?: SpoolLogger;
}

/** A page of pending records and the cursor that continues after it. */
export interface PendingPage {
  records: EventRecord[];
  /** Pass to `pendingFrom` for the next page; 0 starts from the oldest record. */
  cursor: number;
}

/** A page of pending records as their lines (`JSON.stringify` of each record), with their keys (`recordKey`). */
export interface PendingLinesPage {
  lines: string[];
  keys: string[];
  /** Pass to `pendingFrom` / `pendingLinesFrom` for the next page. */
  cursor: number;
}

/** Counters for metrics and tests. */
export interface SpoolStats {
  /** Group commits done: one write and one fdatasync each. */
  commits: number;
  /** Records made durable since open. */
  committedRecords: number;
}

/** The durable event spool. */
export interface Spool {
  /**
   * Resolves once the records are on disk (fsync'd); concurrent calls share one write and one fsync. Waits while full.
   * `lines`, when the caller has them, are the records' `JSON.stringify` (saves serialising every record twice).
   */
  append(records: readonly EventRecord[], lines?: readonly string[]): Promise<void>;
  /** Un-acked durable records in append order, oldest first. Each call returns fresh copies. */
  pending(limit?: number): EventRecord[];
  /** Up to `limit` un-acked records from an opaque `cursor` (0 = oldest), so a sender can page without rescanning. */
  pendingFrom(cursor: number, limit: number): PendingPage;
  /** `pendingFrom` without parsing: each record as its line, to be sent as it is. */
  pendingLinesFrom(cursor: number, limit: number): PendingLinesPage;
  /** Acknowledges records; keys not pending are ignored. */
  ack(keys: readonly RecordKey[]): void;
  /** Un-acked durable records. */
  depth(): number;
  /** Bytes on disk of the un-acked durable records. */
  bytes(): number;
  /** True while appends would wait (limits reached, or appends already waiting). */
  isFull(): boolean;
  /** Resolves once every append let in so far is durable. */
  flush(): Promise<void>;
  /** Counters since open. */
  stats(): SpoolStats;
  /** Flushes and closes; appends waiting for room and later appends reject. */
  close(): Promise<void>;
  /** What recovery found when the spool was opened. */
  readonly recovery: RecoveryReport;
}

const DEFAULTS = { segmentBytes: 4 * 1024 * 1024, maxBytes: 256 * 1024 * 1024, maxRecords: 1_000_000, ackCompactBytes: 1024 * 1024 };
const FULL_CLEAR_RATIO = 0.9;
const noopLog: SpoolLogger = { warn: () => undefined, error: () => undefined };

/** Opens (and recovers) the spool in `options.dir`. */
export async function openSpool(options: SpoolOptions): Promise<Spool> {
  const log = options.log ?? noopLog;
  ensurePrivateDir(options.dir);
  const state = await recover(options.dir, log);
  const ackLog = await AckLog.create(options.dir, ackSnapshot(state.segments), (err) =>
    log.error({ err, dir: options.dir }, 'spool: ack log write failed; affected records will be sent again'),
  );
  return new FileSpool(options, log, state.index, state.segments, state.nextSegmentNo, ackLog, state.report);
}

class FileSpool implements Spool {
  private readonly limits: typeof DEFAULTS;
  private readonly writer: GroupCommitWriter;
  private readonly waiting: AppendItem[] = [];
  private readonly unlinks = new Set<Promise<void>>();
  /** Records and bytes let in but not yet durable; they count against the limits. */
  private queuedRecords = 0;
  private queuedBytes = 0;
  private liveAckBytes = 0;
  private committedRecords = 0;
  private fullEpisode = false;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: SpoolOptions,
    private readonly log: SpoolLogger,
    private readonly index: PendingIndex,
    private readonly segments: Map<number, SegmentState>,
    nextSegmentNo: number,
    private readonly ackLog: AckLog,
    readonly recovery: RecoveryReport,
  ) {
    this.limits = {
      segmentBytes: options.segmentBytes ?? DEFAULTS.segmentBytes,
      maxBytes: options.maxBytes ?? DEFAULTS.maxBytes,
      maxRecords: options.maxRecords ?? DEFAULTS.maxRecords,
      ackCompactBytes: options.ackCompactBytes ?? DEFAULTS.ackCompactBytes,
    };
    for (const seg of segments.values()) this.liveAckBytes += seg.ackedBytes;
    this.writer = new GroupCommitWriter(options.dir, this.limits.segmentBytes, nextSegmentNo, {
      opened: (seg) => this.segments.set(seg.no, seg),
      retired: (seg) => {
        if (seg.live === 0) this.dropSegment(seg);
      },
      committed: (batch, seg) => {
        this.release(batch);
        for (const item of batch) this.indexItem(item, seg);
      },
      failed: (batch, err) => {
        this.release(batch);
        this.log.error({ err, dir: options.dir, records: batch.reduce((n, i) => n + i.lines.length, 0) }, 'spool: append failed');
        this.admitWaiting();
      },
    });
  }

  append(records: readonly EventRecord[], lines?: readonly string[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const item: AppendItem = { keys: [], lines: [], lineBytes: [], bytes: 0, resolve, reject };
      for (let i = 0; i < records.length; i++) {
        const record = records[i] as EventRecord;
        const line = lines?.[i] ?? recordLine(record);
        const size = Buffer.byteLength(line) + 1;
        item.keys.push(recordKey(record));
        item.lines.push(line);
        item.lineBytes.push(size);
        item.bytes += size;
      }
      if (this.waiting.length === 0 && this.fits(item)) {
        this.admit(item);
        return;
      }
      this.waiting.push(item);
      if (!this.fullEpisode) {
        this.fullEpisode = true;
        this.reportFull();
      }
    });
  }

  pending(limit = Number.POSITIVE_INFINITY): EventRecord[] {
    return this.pendingFrom(0, limit).records;
  }

  pendingFrom(cursor: number, limit: number): PendingPage {
    const page = this.index.from(cursor, limit);
    return { records: page.entries.map((entry) => JSON.parse(entry.line) as EventRecord), cursor: page.cursor };
  }

  pendingLinesFrom(cursor: number, limit: number): PendingLinesPage {
    const page = this.index.from(cursor, limit);
    return { lines: page.entries.map((entry) => entry.line), keys: page.entries.map((entry) => entry.key), cursor: page.cursor };
  }

  ack(keys: readonly RecordKey[]): void {
    if (this.closed) return;
    let text = '';
    const current = this.writer.currentSegment;
    for (const key of keys) {
      const entry = this.index.remove(recordKey(key));
      if (!entry) continue;
      const line = `${ackLine(key)}\n`;
      text += line;
      entry.seg.acked.push(line);
      entry.seg.ackedBytes += line.length;
      this.liveAckBytes += line.length;
      if (--entry.seg.live === 0 && entry.seg !== current) this.dropSegment(entry.seg);
    }
    if (text === '') return;
    this.ackLog.append(text);
    const logBytes = this.ackLog.bytes;
    if (logBytes >= this.limits.ackCompactBytes && logBytes > 2 * this.liveAckBytes) {
      this.ackLog.compact(() => ackSnapshot(this.segments));
    }
    this.admitWaiting();
  }

  depth(): number {
    return this.index.count;
  }

  bytes(): number {
    return this.index.bytes;
  }

  isFull(): boolean {
    return this.waiting.length > 0 || this.usedRecords() >= this.limits.maxRecords || this.usedBytes() >= this.limits.maxBytes;
  }

  flush(): Promise<void> {
    return this.writer.idle();
  }

  stats(): SpoolStats {
    return { commits: this.writer.commits, committedRecords: this.committedRecords };
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const item of this.waiting.splice(0)) item.reject(closedError());
    this.closing = (async () => {
      await this.writer.close();
      await this.ackLog.close();
      await Promise.all(this.unlinks);
    })();
    return this.closing;
  }

  private usedRecords(): number {
    return this.index.count + this.queuedRecords;
  }

  private usedBytes(): number {
    return this.index.bytes + this.queuedBytes;
  }

  private fits(item: AppendItem): boolean {
    const records = this.usedRecords();
    if (records === 0) return true;
    return records + item.lines.length <= this.limits.maxRecords && this.usedBytes() + item.bytes <= this.limits.maxBytes;
  }

  private reportFull(): void {
    try {
      this.options.onFull?.({ records: this.usedRecords(), bytes: this.usedBytes() });
    } catch (err) {
      this.log.error({ err }, 'spool: onFull callback threw');
    }
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0] as AppendItem)) this.admit(this.waiting.shift() as AppendItem);
    if (
      this.fullEpisode && this.waiting.length === 0 &&
      this.usedRecords() <= this.limits.maxRecords * FULL_CLEAR_RATIO && this.usedBytes() <= this.limits.maxBytes * FULL_CLEAR_RATIO
    ) {
      this.fullEpisode = false;
    }
  }

  private admit(item: AppendItem): void {
    this.queuedRecords += item.lines.length;
    this.queuedBytes += item.bytes;
    this.writer.enqueue(item);
  }

  private release(batch: readonly AppendItem[]): void {
    for (const item of batch) {
      this.queuedRecords -= item.lines.length;
      this.queuedBytes -= item.bytes;
    }
  }

  private indexItem(item: AppendItem, seg: SegmentState): void {
    for (let i = 0; i < item.lines.length; i++) {
      const key = item.keys[i] as string;
      const added = this.index.add({ key, line: item.lines[i] as string, bytes: item.lineBytes[i] as number, seg, pos: -1 });
      if (added) seg.live++;
      else this.log.warn({ key }, 'spool: record appended twice while pending; keeping the first, as the CP would');
    }
    this.committedRecords += item.lines.length;
  }

  private dropSegment(seg: SegmentState): void {
    if (!this.segments.delete(seg.no)) return;
    this.liveAckBytes -= seg.ackedBytes;
    const done = fsp
      .rm(seg.file, { force: true })
      .catch((err: unknown) => this.log.error({ err, file: seg.file }, 'spool: could not delete an acknowledged segment'))
      .finally(() => this.unlinks.delete(done));
    this.unlinks.add(done);
  }
}

/** The ack-log lines for records in segments that still exist, oldest first. */
function ackSnapshot(segments: Map<number, SegmentState>): string {
  let text = '';
  for (const seg of segments.values()) text += seg.acked.join('');
  return text;
}

function closedError(): OkesuError {
  return new OkesuError('OKS_ERR_INTERNAL', 'the spool is closed');
}
