import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSpool, type Spool, type SpoolOptions } from '../../../daimon/spool/spool.js';
import { RUN_A, RUN_B, memoryLog, record, records, removeTempDirs, segmentFiles, seqs, tempDir } from './spool-helpers.js';

const open: Spool[] = [];
async function openTracked(options: SpoolOptions): Promise<Spool> {
  const spool = await openSpool(options);
  open.push(spool);
  return spool;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  removeTempDirs();
});

function lastSegment(dir: string): string {
  const files = segmentFiles(dir);
  const last = files.at(-1);
  if (!last) throw new Error('no segment');
  return path.join(dir, last);
}

describe('spool persistence', () => {
  it('keeps appended records across a reopen, in append order', async () => {
    const dir = tempDir();
    const spool = await openTracked({ dir });
    await spool.append(records(1, 3));
    await spool.append([record(1, RUN_B), record(2, RUN_B)]);
    await spool.append(records(4, 5));
    expect(spool.depth()).toBe(7);
    await spool.close();

    const reopened = await openTracked({ dir });
    const pending = reopened.pending();
    expect(pending.map((r) => `${r.run_id === RUN_A ? 'a' : 'b'}${r.seq}`)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'a4', 'a5']);
    expect(pending[0]).toEqual(record(1));
    expect(reopened.depth()).toBe(7);
    expect(reopened.bytes()).toBeGreaterThan(0);
    expect(reopened.recovery).toMatchObject({ records: 7, corrupt: 0, tornBytes: 0 });
  });

  it('forgets acknowledged records across a reopen and ignores unknown keys', async () => {
    const dir = tempDir();
    const spool = await openTracked({ dir });
    await spool.append(records(1, 10));
    spool.ack([{ run_id: RUN_A, seq: 2 }, { run_id: RUN_A, seq: 5 }, { run_id: RUN_B, seq: 2 }, { run_id: RUN_A, seq: 99 }]);
    expect(seqs(spool.pending())).toEqual([1, 3, 4, 6, 7, 8, 9, 10]);
    await spool.close();

    const reopened = await openTracked({ dir });
    expect(seqs(reopened.pending())).toEqual([1, 3, 4, 6, 7, 8, 9, 10]);
    // An ignored unknown key must not make a later record with that key vanish on the next reopen.
    await reopened.append([record(99)]);
    await reopened.close();
    const again = await openTracked({ dir });
    expect(seqs(again.pending())).toEqual([1, 3, 4, 6, 7, 8, 9, 10, 99]);
  });

  it('deletes fully acknowledged segments, on ack and on reopen', async () => {
    const dir = tempDir();
    const spool = await openTracked({ dir, segmentBytes: 1024 });
    for (let seq = 1; seq <= 60; seq += 5) await spool.append(records(seq, seq + 4, RUN_A, 100));
    const before = segmentFiles(dir);
    expect(before.length).toBeGreaterThan(4);

    spool.ack(records(1, 30).map((r) => ({ run_id: r.run_id, seq: r.seq })));
    await spool.flush();
    await spool.close(); // waits for deletions to finish
    const after = segmentFiles(dir);
    expect(after.length).toBeLessThan(before.length);
    expect(after[0]).not.toBe(before[0]);

    const reopened = await openTracked({ dir, segmentBytes: 1024 });
    expect(seqs(reopened.pending())).toEqual(seqs(records(31, 60)));
    reopened.ack(records(31, 60).map((r) => ({ run_id: r.run_id, seq: r.seq })));
    await reopened.close();
    const last = await openTracked({ dir });
    expect(last.pending()).toEqual([]);
    expect(segmentFiles(dir)).toEqual([]);
  });

  it('keeps the segment being written even when everything in it is acknowledged', async () => {
    const dir = tempDir();
    const spool = await openTracked({ dir });
    await spool.append(records(1, 5));
    spool.ack(records(1, 5).map((r) => ({ run_id: r.run_id, seq: r.seq })));
    // Deleting the file still being appended to would lose what comes next.
    await spool.append(records(6, 8));
    await spool.close();
    const reopened = await openTracked({ dir });
    expect(seqs(reopened.pending())).toEqual([6, 7, 8]);
  });

  it('compacts the ack log down to acks of records still on disk', async () => {
    const dir = tempDir();
    const spool = await openTracked({ dir, segmentBytes: 2048, ackCompactBytes: 4096 });
    for (let seq = 1; seq <= 2000; seq += 50) {
      await spool.append(records(seq, seq + 49));
      spool.ack(records(seq, seq + 49).map((r) => ({ run_id: r.run_id, seq: r.seq })));
    }
    await spool.append([record(5000)]);
    await spool.close();
    // 2000 acks of ~35 bytes would be ~70 KB without compaction.
    expect(fs.statSync(path.join(dir, 'acks.jsonl')).size).toBeLessThan(8192);
    const reopened = await openTracked({ dir });
    expect(seqs(reopened.pending())).toEqual([5000]);
  });

  it('pages through pending records with a cursor, skipping acknowledged ones', async () => {
    const dir = tempDir();
    const spool = await openTracked({ dir });
    await spool.append(records(1, 2500));
    const first = spool.pendingFrom(0, 1000);
    expect(seqs(first.records)).toEqual(seqs(records(1, 1000)));
    spool.ack(first.records.map((r) => ({ run_id: r.run_id, seq: r.seq })));
    spool.ack([{ run_id: RUN_A, seq: 1001 }, { run_id: RUN_A, seq: 1500 }]);
    const second = spool.pendingFrom(first.cursor, 1000);
    expect(second.records[0]?.seq).toBe(1002);
    expect(second.records).toHaveLength(1000);
    expect(second.records.some((r) => r.seq === 1500)).toBe(false);
    const third = spool.pendingFrom(second.cursor, 1000);
    expect(third.records.at(-1)?.seq).toBe(2500);
    expect(spool.pendingFrom(third.cursor, 1000).records).toEqual([]);
    expect(spool.pending(3).map((r) => r.seq)).toEqual([1002, 1003, 1004]);
  });

  it('hands out pending records as their wire lines, before and after a reopen, also for a line stored in another form', async () => {
    const dir = tempDir();
    const spool = await openTracked({ dir });
    await spool.append(records(1, 3));
    const page = spool.pendingLinesFrom(0, 10);
    expect(page.lines).toEqual(spool.pending().map((r) => JSON.stringify(r)));
    expect(page.keys).toEqual([1, 2, 3].map((seq) => `${RUN_A}:${seq}`));
    expect(spool.pendingLinesFrom(page.cursor, 10).lines).toEqual([]);
    await spool.close();
    // A line written by hand with spaces: sent as what it parses to, as before.
    fs.appendFileSync(lastSegment(dir), `${JSON.stringify(record(4), null, 1).replaceAll('\n', '')}\n`);
    const reopened = await openTracked({ dir });
    expect(reopened.pendingLinesFrom(0, 10).lines).toEqual(reopened.pending().map((r) => JSON.stringify(r)));
    expect(reopened.pendingLinesFrom(0, 10).lines.at(-1)).toBe(JSON.stringify(record(4)));
  });

  it('rejects appends after close', async () => {
    const spool = await openTracked({ dir: tempDir() });
    await spool.close();
    await expect(spool.append([record(1)])).rejects.toThrow(/closed/);
  });
});

describe('spool recovery', () => {
  it('cuts a torn last line and recovers everything before it', async () => {
    const dir = tempDir();
    const spool = await openTracked({ dir });
    await spool.append(records(1, 20));
    await spool.close();
    const file = lastSegment(dir);
    const sizeBefore = fs.statSync(file).size;
    const torn = JSON.stringify(record(21)).slice(0, 30);
    fs.appendFileSync(file, torn);

    const log = memoryLog();
    const reopened = await openTracked({ dir, log });
    expect(seqs(reopened.pending())).toEqual(seqs(records(1, 20)));
    expect(reopened.recovery.tornBytes).toBe(torn.length);
    expect(fs.statSync(file).size).toBe(sizeBefore);
    expect(log.lines.some((l) => l.level === 'warn' && /incomplete/.test(l.msg))).toBe(true);

    // Appending after the cut leaves no glued line behind.
    await reopened.append(records(21, 22));
    await reopened.close();
    const again = await openTracked({ dir });
    expect(seqs(again.pending())).toEqual(seqs(records(1, 22)));
    expect(again.recovery).toMatchObject({ corrupt: 0, tornBytes: 0 });
  });

  it.each([
    ['not JSON', '{"run_id": "r_'],
    ['JSON that is not a record', '{"hello":"world"}'],
    ['a record with a bad run id', JSON.stringify({ ...record(7), run_id: 'nope' })],
  ])('skips a corrupt middle line (%s) with a warning and keeps the rest', async (_name, bad) => {
    const dir = tempDir();
    const spool = await openTracked({ dir });
    await spool.append(records(1, 6));
    await spool.close();
    const file = lastSegment(dir);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.splice(3, 0, bad);
    fs.writeFileSync(file, lines.join('\n'));

    const log = memoryLog();
    const reopened = await openTracked({ dir, log });
    expect(seqs(reopened.pending())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reopened.recovery.corrupt).toBe(1);
    const warning = log.lines.find((l) => /corrupt/.test(l.msg));
    expect(warning?.obj).toMatchObject({ corrupt: 1, first_line: 4 });
  });

  it('keeps the first of two records with the same key, as the CP would', async () => {
    const dir = tempDir();
    const spool = await openTracked({ dir });
    await spool.append(records(1, 2));
    await spool.close();
    fs.appendFileSync(lastSegment(dir), `${JSON.stringify({ ...record(1), event: { ...record(1).event, text: 'again' } })}\n`);
    const reopened = await openTracked({ dir });
    expect(reopened.pending()).toEqual(records(1, 2));
    expect(reopened.recovery.duplicates).toBe(1);
  });
});
