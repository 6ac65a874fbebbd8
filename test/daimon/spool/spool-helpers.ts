import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EventRecord } from '../../../src/protocol/tunnel.js';

/** A valid run id for tests: `r_` and 26 Crockford characters. */
export const RUN_A = `r_${'A'.repeat(26)}`;
/** A second run id. */
export const RUN_B = `r_${'B'.repeat(26)}`;

/** An event record with a `text` body, optionally padded to make lines bigger. */
export function record(seq: number, runId = RUN_A, pad = 0): EventRecord {
  return { run_id: runId, seq, event: { type: 'text', ts: 1_700_000_000_000 + seq, agent: 'test-agent', text: `event ${seq}${'.'.repeat(pad)}` } };
}

/** Records with seqs `from`..`to` inclusive. */
export function records(from: number, to: number, runId = RUN_A, pad = 0): EventRecord[] {
  const out: EventRecord[] = [];
  for (let seq = from; seq <= to; seq++) out.push(record(seq, runId, pad));
  return out;
}

const made: string[] = [];

/** A fresh temporary directory for one test; removed by `removeTempDirs`. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'okesu-spool-'));
  made.push(dir);
  return dir;
}

/** Removes the directories `tempDir` made. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** The segment file names in `dir`, sorted. */
export function segmentFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => /^seg-\d{16}\.jsonl$/.test(name)).sort();
}

/** The seqs of `records`, in order. */
export function seqs(list: readonly EventRecord[]): number[] {
  return list.map((r) => r.seq);
}

/** A logger that keeps what it is told. */
export function memoryLog(): { warn(obj: object, msg: string): void; error(obj: object, msg: string): void; lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  return {
    lines,
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}
