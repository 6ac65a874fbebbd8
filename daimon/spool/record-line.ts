import { eventRecordSchema, type EventRecord, type RecordKey } from '../../src/protocol/tunnel.js';

/** The in-memory identity of a record: `run_id` and `seq` joined (run ids never contain a colon). */
export function recordKey(key: RecordKey): string {
  return `${key.run_id}:${key.seq}`;
}

/** The line (without its newline) that stores one record in a segment. */
export function recordLine(record: EventRecord): string {
  return JSON.stringify(record);
}

/** Parses and validates a segment line; undefined when the line is corrupt. */
export function parseRecordLine(line: string): EventRecord | undefined {
  return readRecordLine(line)?.record;
}

/**
 * Parses and validates a segment line, with the line the record is sent as: `JSON.stringify` of what the line parses
 * to (what a parse and a send made of it before), which is the line itself for every line a spool writes.
 */
export function readRecordLine(line: string): { record: EventRecord; wire: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  // The file is an edge like any other: a record the CP would refuse must not reach the send queue, or it would block it forever.
  const parsed = eventRecordSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const wire = JSON.stringify(value);
  return { record: parsed.data, wire: wire === line ? line : wire };
}

/** The line (without its newline) that records one acknowledgement in `acks.jsonl`. */
export function ackLine(key: RecordKey): string {
  return JSON.stringify([key.run_id, key.seq]);
}

/** Parses an `acks.jsonl` line back to a record key string; undefined when the line is corrupt. */
export function parseAckLine(line: string): string | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [runId, seq] = value as [unknown, unknown];
    if (typeof runId !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
    return recordKey({ run_id: runId, seq });
  } catch {
    return undefined;
  }
}
