import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_DEDUP_ENTRIES, createLocalDedup } from '../../../daimon/dedup/local-dedup.js';

const HOUR = 3_600_000;
let dir: string;
let file: string;
let clock: number;
const now = () => clock;
const finding = (title: string, extra: Record<string, unknown> = {}) => ({ type: 'finding', severity: 'high', title, resource: 'pid:1, bin:/x', ...extra });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-dedup-'));
  file = join(dir, 'dedup.json');
  clock = 1_000_000;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('createLocalDedup', () => {
  it('suppresses a fingerprint within the TTL across a reload, and admits it again after', () => {
    const first = createLocalDedup(file, { ttlMs: HOUR, now });
    expect(first.admit(finding('Miner running 12 threads'))).toBe(true);
    // Same fingerprint: numbers in titles and volatile resource keys do not count.
    expect(first.admit(finding('Miner running 13 threads', { resource: 'bin:/x, pid:99' }))).toBe(false);
    expect(first.admit(finding('Another thing'))).toBe(true);
    first.save();
    expect(statSync(file).mode & 0o777).toBe(0o600);

    clock += HOUR - 1;
    const reloaded = createLocalDedup(file, { ttlMs: HOUR, now });
    expect(reloaded.admit(finding('Miner running 12 threads'))).toBe(false);
    clock += 1;
    expect(reloaded.admit(finding('Miner running 12 threads'))).toBe(true); // TTL over: emitted again, clock restarts
    expect(reloaded.admit(finding('Miner running 12 threads'))).toBe(false);
    reloaded.save();
    // "Another thing" expired and was pruned; the re-emitted one is remembered from its new time.
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { emitted: Record<string, number> };
    expect(Object.values(saved.emitted)).toEqual([clock]);
  });

  it('a different severity or dedup key is another fingerprint', () => {
    const dedup = createLocalDedup(file, { ttlMs: HOUR, now });
    expect(dedup.admit(finding('x'))).toBe(true);
    expect(dedup.admit(finding('x', { severity: 'low' }))).toBe(true);
    expect(dedup.admit(finding('x', { dedup_key: 'k' }))).toBe(true);
    expect(dedup.admit(finding('x', { severity: 'HIGH' }))).toBe(false);
  });

  it('admits a fingerprint again within the run that first admitted it (one problem under three pids), not in the next run', () => {
    const dedup = createLocalDedup(file, { ttlMs: HOUR, now });
    const run = new Set<string>();
    const pid = (n: number) => finding('Process running from an in-memory (memfd) executable', { resource: `binary:/memfd:x, pid:${n}`, dedup_key: 'memfd-exe:/memfd:x' });
    expect([pid(1), pid(2), pid(3)].map((f) => dedup.admit(f, run))).toEqual([true, true, true]);
    expect(dedup.admit(pid(4))).toBe(false);
    expect(dedup.admit(pid(4), new Set())).toBe(false);
  });

  it('defaults the cap to 50k', () => {
    expect(MAX_DEDUP_ENTRIES).toBe(50_000);
  });

  it('TTL 0 admits everything and writes nothing', () => {
    const dedup = createLocalDedup(file, { ttlMs: 0, now });
    expect([dedup.admit(finding('x')), dedup.admit(finding('x'))]).toEqual([true, true]);
    dedup.save();
    expect(() => statSync(file)).toThrow(/ENOENT/);
  });

  it('admits an invalid finding every time (the CP reports it)', () => {
    const dedup = createLocalDedup(file, { ttlMs: HOUR, now });
    const bad = { type: 'finding', severity: 'bogus', title: 'x' };
    expect([dedup.admit(bad), dedup.admit(bad)]).toEqual([true, true]);
  });

  it.each([['not JSON', '{nope'], ['a wrong shape', '{"version":1,"emitted":[1]}']])('starts empty from a corrupt file (%s)', (_name, text) => {
    writeFileSync(file, text);
    const dedup = createLocalDedup(file, { ttlMs: HOUR, now });
    expect(dedup.admit(finding('x'))).toBe(true);
    dedup.save();
    expect(createLocalDedup(file, { ttlMs: HOUR, now }).admit(finding('x'))).toBe(false);
  });

  it('caps the entries, dropping the oldest', () => {
    const dedup = createLocalDedup(file, { ttlMs: HOUR, now, maxEntries: 100 });
    for (let i = 0; i < 102; i++) {
      clock++;
      dedup.admit(finding('x', { dedup_key: `k${i}` }));
    }
    dedup.save();
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { emitted: Record<string, number> };
    expect(Object.keys(saved.emitted)).toHaveLength(100);
    const reloaded = createLocalDedup(file, { ttlMs: HOUR, now });
    expect(reloaded.admit(finding('x', { dedup_key: 'k0' }))).toBe(true);
    expect(reloaded.admit(finding('x', { dedup_key: 'k2' }))).toBe(false);
  });
});
