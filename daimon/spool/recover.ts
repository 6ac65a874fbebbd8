import { promises as fsp } from 'node:fs';
import { readAcks } from './ack-log.js';
import { PendingIndex, type SegmentState } from './pending-index.js';
import { ackLine, readRecordLine, recordKey } from './record-line.js';
import { listSegments, readSegment, truncateDurably } from './segment-file.js';

/** The logger the spool reports to; pino's logger fits. */
export interface SpoolLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What recovery found on open. */
export interface RecoveryReport {
  /** Segment files read. */
  segments: number;
  /** Un-acked records recovered, in append order. */
  records: number;
  /** Records found acknowledged in `acks.jsonl`. */
  acked: number;
  /** Unreadable lines skipped in the middle of segments. */
  corrupt: number;
  /** Lines whose (run_id, seq) was already pending; the first one is kept, as the CP would. */
  duplicates: number;
  /** Bytes of incomplete last lines cut off (appends interrupted by a crash, never reported durable). */
  tornBytes: number;
  /** Unreadable lines skipped in `acks.jsonl`. */
  corruptAcks: number;
}

/** The spool's state rebuilt from its directory. */
export interface Recovered {
  index: PendingIndex;
  /** Segments that still hold un-acked records, oldest first. */
  segments: Map<number, SegmentState>;
  /** Number for the next segment file. */
  nextSegmentNo: number;
  report: RecoveryReport;
}

/**
 * Rebuilds the pending queue: reads every segment in order, cuts torn tails, skips corrupt lines, applies the acks and
 * deletes segments with nothing left to send.
 */
export async function recover(dir: string, log: SpoolLogger): Promise<Recovered> {
  const acks = await readAcks(dir);
  const found = await listSegments(dir);
  const index = new PendingIndex();
  const segments = new Map<number, SegmentState>();
  const report: RecoveryReport = {
    segments: found.length, records: 0, acked: 0, corrupt: 0, duplicates: 0, tornBytes: 0, corruptAcks: acks.corrupt,
  };
  if (acks.corrupt > 0) log.warn({ dir, corrupt: acks.corrupt }, 'spool: skipped unreadable lines in acks.jsonl');

  for (const ref of found) {
    const content = await readSegment(ref.file);
    if (content.tornBytes > 0) {
      // Only the last append before a crash can be incomplete; it was never fsync'd whole, so never reported durable.
      await truncateDurably(ref.file, content.completeBytes);
      report.tornBytes += content.tornBytes;
      log.warn({ file: ref.file, bytes: content.tornBytes }, 'spool: cut an incomplete last line left by a crash');
    }
    const seg: SegmentState = { no: ref.no, file: ref.file, live: 0, acked: [], ackedBytes: 0 };
    let corrupt = 0;
    let firstCorrupt = 0;
    content.lines.forEach((line, i) => {
      const read = readRecordLine(line.text);
      if (!read) {
        if (corrupt++ === 0) firstCorrupt = i + 1;
        return;
      }
      const { record, wire } = read;
      const key = recordKey(record);
      if (acks.keys.has(key)) {
        const text = `${ackLine(record)}\n`;
        seg.acked.push(text);
        seg.ackedBytes += text.length;
        report.acked++;
      } else if (index.add({ key, line: wire, bytes: line.bytes, seg, pos: -1 })) {
        seg.live++;
      } else {
        report.duplicates++;
      }
    });
    if (corrupt > 0) {
      report.corrupt += corrupt;
      log.warn({ file: ref.file, corrupt, first_line: firstCorrupt }, 'spool: skipped corrupt lines');
    }
    if (seg.live === 0) await fsp.rm(ref.file, { force: true });
    else segments.set(seg.no, seg);
  }
  report.records = index.count;
  const last = found.at(-1);
  return { index, segments, nextSegmentNo: last ? last.no + 1 : 1, report };
}
