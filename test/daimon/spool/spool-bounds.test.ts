import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { openSpool, type Spool, type SpoolOptions } from '../../../daimon/spool/spool.js';
import { RUN_A, record, records, removeTempDirs, segmentFiles, seqs, tempDir } from './spool-helpers.js';

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

/** A promise with its outcome readable synchronously. */
function track(promise: Promise<void>): { promise: Promise<void>; settled: () => boolean } {
  let settled = false;
  const tracked = promise.then(
    () => { settled = true; },
    (err: unknown) => { settled = true; throw err; },
  );
  return { promise: tracked, settled: () => settled };
}

const key = (seq: number): { run_id: string; seq: number } => ({ run_id: RUN_A, seq });

describe('spool bounds', () => {
  it('makes the append past maxRecords wait, reports full once, and lets it in after acks', async () => {
    const fulls: { records: number; bytes: number }[] = [];
    let fullSeen: () => void = () => undefined;
    const fullFired = new Promise<void>((resolve) => { fullSeen = resolve; });
    const spool = await openTracked({ dir: tempDir(), maxRecords: 10, onFull: (info) => { fulls.push(info); fullSeen(); } });

    await spool.append(records(1, 10));
    expect(spool.isFull()).toBe(true);
    expect(fulls).toHaveLength(0);

    const eleventh = track(spool.append([record(11)]));
    const twelfth = track(spool.append([record(12)]));
    await fullFired;
    // Everything that was let in is durable now; a wrongly admitted append would have resolved with it.
    await spool.flush();
    await nextTurn();
    expect(eleventh.settled()).toBe(false);
    expect(twelfth.settled()).toBe(false);
    expect(fulls).toEqual([{ records: 10, bytes: spool.bytes() }]);
    expect(spool.depth()).toBe(10);

    spool.ack([key(1)]);
    await eleventh.promise;
    expect(twelfth.settled()).toBe(false);
    spool.ack([key(2)]);
    await twelfth.promise;
    expect(seqs(spool.pending())).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(fulls).toHaveLength(1);

    // Drain below the low-water mark: the episode ends, and the next wait is a new one.
    spool.ack(records(3, 12).map((r) => key(r.seq)));
    expect(spool.isFull()).toBe(false);
    await spool.append(records(13, 22));
    const next = track(spool.append([record(23)]));
    expect(fulls).toHaveLength(2);
    spool.ack([key(13)]);
    await next.promise;
  });

  it('counts bytes too: maxBytes holds appends back the same way', async () => {
    let full = 0;
    const ten = records(1, 10, RUN_A, 300);
    const tenBytes = ten.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r)) + 1, 0);
    const spool = await openTracked({ dir: tempDir(), maxBytes: tenBytes + 100, onFull: () => { full++; } });
    await spool.append(ten);
    expect(spool.bytes()).toBe(tenBytes);
    expect(spool.isFull()).toBe(false);
    const blocked = track(spool.append([record(11, RUN_A, 300)]));
    await spool.flush();
    await nextTurn();
    expect(blocked.settled()).toBe(false);
    expect(full).toBe(1);
    expect(spool.isFull()).toBe(true);
    spool.ack([key(1)]);
    await blocked.promise;
  });

  it('lets an append bigger than the whole spool in when the spool is empty', async () => {
    const spool = await openTracked({ dir: tempDir(), maxRecords: 10 });
    await spool.append(records(1, 25));
    expect(spool.depth()).toBe(25);
  });

  it('rejects appends still waiting for room when the spool closes', async () => {
    const spool = await openTracked({ dir: tempDir(), maxRecords: 2 });
    await spool.append(records(1, 2));
    const waiting = expect(spool.append([record(3)])).rejects.toThrow(/closed/);
    await spool.close();
    await waiting;
  });
});

describe('spool group commit', () => {
  it('resolves 10,000 concurrent appends, all durable and in order, in one or two commits', async () => {
    const dir = tempDir();
    const spool = await openTracked({ dir });
    const all = records(1, 10_000);
    await Promise.all(all.map((r) => spool.append([r])));
    expect(spool.depth()).toBe(10_000);
    // Issued in one turn of the event loop, so they share one write and one fsync (two at most if a batch splits).
    expect(spool.stats()).toEqual({ commits: expect.any(Number), committedRecords: 10_000 });
    expect(spool.stats().commits).toBeLessThanOrEqual(2);

    const lines = segmentFiles(dir).flatMap((name) => fs.readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean));
    expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(seqs(all));
    await spool.close();
    const reopened = await openTracked({ dir });
    expect(seqs(reopened.pending())).toEqual(seqs(all));
  });
});
