import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openSpool } from '../../../daimon/spool/spool.js';
import { records, removeTempDirs, seqs, tempDir } from './spool-helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'append-until-killed.ts');
const TOTAL = 1_000_000;

/** What the child said before it was killed: the seqs it saw durable, and the highest seq it said it would ack. */
interface ChildReport {
  durable: number[];
  ackedUpTo: number;
}

/**
 * Runs the fixture, SIGKILLs it once it has reported `killAfter` durable records (plus up to `jitterMs`, so the kill
 * lands anywhere in a write or an fsync), and returns what it reported.
 */
function runAndKill(dir: string, killAfter: number, mode: 'plain' | 'big' | 'ack', jitterMs = 0): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir, String(TOTAL), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    const report: ChildReport = { durable: [], ackedUpTo: 0 };
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, a, b] = line.split(' ');
        if (kind === 'd') for (let seq = Number(a); seq <= Number(b); seq++) report.durable.push(seq);
        else if (kind === 'a') report.ackedUpTo = Number(a);
      }
      if (!killed && report.durable.length >= killAfter) {
        killed = true;
        if (jitterMs === 0) child.kill('SIGKILL');
        else setTimeout(() => child.kill('SIGKILL'), Math.random() * jitterMs);
      }
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child ended without being killed (${signal ?? _code}): ${stderr}`));
      else resolve(report);
    });
  });
}

describe('spool crash safety', () => {
  afterEach(removeTempDirs);

  it.each([
    // `group` is how many records the child has in flight at once: it never appends past the last report plus one group.
    { mode: 'plain' as const, killAfter: 2000, jitterMs: 0, pad: 200, group: 16 },
    // ~3 MB group commits killed at a random instant: now and then the kill cuts a write short and leaves a torn line.
    { mode: 'big' as const, killAfter: 6400, jitterMs: 60, pad: 1000, group: 64 * 50 },
  ])('loses no record reported durable when the appender is killed with SIGKILL, and invents none ($mode)', async ({ mode, killAfter, jitterMs, pad, group }) => {
    const dir = tempDir();
    const report = await runAndKill(dir, killAfter, mode, jitterMs);
    expect(report.durable.length).toBeGreaterThanOrEqual(killAfter);

    const spool = await openSpool({ dir });
    const recovered = seqs(spool.pending());
    const present = new Set(recovered);
    expect(present.size).toBe(recovered.length);
    expect(report.durable.filter((seq) => !present.has(seq))).toEqual([]);
    // Appends are issued in seq order and a group commit is one write of whole lines, so what survives is exactly 1..M.
    const max = recovered.at(-1) ?? 0;
    expect(recovered).toEqual(Array.from({ length: max }, (_, i) => i + 1));
    const highest = Math.max(...report.durable);
    expect(max).toBeGreaterThanOrEqual(highest);
    expect(max).toBeLessThanOrEqual(highest + group);
    for (const r of spool.pending(5)) expect(r).toEqual(records(r.seq, r.seq, undefined, pad)[0]);

    // The recovered spool keeps working: new appends land after the old ones and survive another reopen.
    await spool.append(records(max + 1, max + 10, undefined, pad));
    await spool.close();
    const again = await openSpool({ dir });
    expect(seqs(again.pending())).toEqual(Array.from({ length: max + 10 }, (_, i) => i + 1));
    await again.close();
  });

  it('keeps every durable record not yet acknowledged when killed while acking, rotating and compacting', async () => {
    const dir = tempDir();
    const report = await runAndKill(dir, 3000, 'ack');
    expect(report.ackedUpTo).toBeGreaterThan(0);

    const spool = await openSpool({ dir });
    const recovered = seqs(spool.pending());
    expect(new Set(recovered).size).toBe(recovered.length);
    const missing = report.durable.filter((seq) => seq > report.ackedUpTo && !recovered.includes(seq));
    expect(missing).toEqual([]);
    const highest = Math.max(...report.durable);
    // Nothing invented: only seqs the child appended, in order (acked ones may come back; the CP deduplicates them).
    expect(recovered).toEqual([...recovered].sort((a, b) => a - b));
    expect(recovered.every((seq) => seq >= 1 && seq <= highest + 16)).toBe(true);
    expect(spool.recovery.corrupt).toBe(0);
    await spool.close();
  });
});
