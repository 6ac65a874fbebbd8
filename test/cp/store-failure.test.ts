import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRecord, RecordKey } from '../../src/protocol/tunnel.js';
import type { OrchestrationRunView } from '../../src/protocol/orchestration-api.js';
import { createManualClock } from '../../daimon/scheduler/clock.js';
import { apply, fakeDaimons, waitRun } from './orchestration/orch-helpers.js';
import { errorCode, findingRecord, heartbeat, hello, startCp, waitFor, type CpHarness, type TestSocket } from './cp-harness.js';

const findings = (run: string, from: number, n: number): EventRecord[] => Array.from({ length: n }, (_, i) => findingRecord(run, from + i));
const keysOf = (records: readonly EventRecord[]): RecordKey[] => records.map((r) => ({ run_id: r.run_id, seq: r.seq }));
const ackedKeys = (t: TestSocket): string[] => t.ofType('ack').flatMap((f) => (f['records'] as RecordKey[]).map((k) => `${k.run_id}/${k.seq}`));

/** Writes `path` until the file system is full (ENOSPC): first in large chunks, then page by page. */
function fillUp(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 20, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0x61);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Sets this process's soft file-size limit (RLIMIT_FSIZE); the hard limit is left as it is, so it can be raised again. */
const setFileSizeLimit = (soft: number | 'unlimited'): void => void execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${soft}:`]);
const ignoreSigxfsz = (): void => undefined;

/**
 * Two real ways a running CP's writes start failing, then stop failing:
 * - a full disk: the state dir is a small tmpfs (a mount, so root only — CI is root) that the test fills, then frees;
 * - a file-size limit: RLIMIT_FSIZE of this process set to what the database files hold now, so every write that would
 *   grow them fails (EFBIG; a SIGXFSZ handler keeps the process alive), then lifted. Any user may lower and raise its
 *   own soft limit, so this runs without root. (Mode bits or a read-only directory do not stop writes through files a
 *   process already has open, so they cannot fail a running CP.)
 */
interface Failure {
  name: string;
  /** Prepares a base directory for the CP's state dir; returns its cleanup. */
  setup(base: string): () => void;
  inject(base: string, stateDir: string): void;
  heal(base: string): void;
}
const FAILURES: Failure[] = [
  {
    name: 'the tmpfs holding the state dir fills up',
    setup(base) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', base]);
      return () => execFileSync('umount', ['-l', base]);
    },
    inject: (base) => fillUp(join(base, 'filler')),
    heal: (base) => unlinkSync(join(base, 'filler')),
  },
  {
    name: 'the database files may not grow (RLIMIT_FSIZE)',
    setup() {
      process.on('SIGXFSZ', ignoreSigxfsz);
      return () => {
        setFileSizeLimit('unlimited');
        process.off('SIGXFSZ', ignoreSigxfsz);
      };
    },
    // The WAL is where every commit is appended: no write past its current end succeeds.
    inject: (_base, stateDir) => setFileSizeLimit(statSync(join(stateDir, 'cp.db-wal')).size),
    heal: () => setFileSizeLimit('unlimited'),
  },
];
const isRoot = process.getuid?.() === 0;

// Without root the tmpfs cannot be mounted; the file-size limit runs everywhere (never skipped).
describe.each(FAILURES.filter((f) => isRoot || f.name.includes('RLIMIT')))('a running CP when $name', (failure) => {
  let base: string | undefined;
  let cleanup: (() => void) | undefined;
  let h: CpHarness | undefined;
  afterEach(async () => {
    try {
      await h?.close();
    } finally {
      h = undefined;
      cleanup?.();
      cleanup = undefined;
      if (base) rmSync(base, { recursive: true, force: true });
      base = undefined;
    }
  });

  it('keeps running, answers writes 503 OKS_ERR_STORE_UNAVAILABLE, acks nothing it did not store, and recovers by itself with nothing lost or doubled', { timeout: 120_000 }, async () => {
    base = mkdtempSync(join(tmpdir(), 'okesu-full-'));
    cleanup = failure.setup(base);
    const stateDir = join(base, 'cp');
    h = await startCp({ stateDir });
    const cp = h;
    const host = await cp.registerHost('web-01');
    const tunnel = await cp.connectHost(host);
    const run = await cp.admin.createRun({ agent: 'edr', host: 'web-01' });
    await tunnel.nextOfType('dispatch');
    const before = findings(run.run_id, 1, 10);
    tunnel.send({ type: 'events', records: before });
    await waitFor(() => ackedKeys(tunnel).length === before.length, 10_000, 'the first events acknowledged');

    failure.inject(base, stateDir);

    // The daimon sends events and keeps heart-beating; the CP cannot store them.
    const during = findings(run.run_id, 100, 500);
    tunnel.send({ type: 'events', records: during });
    let seq = 0;
    const beat = (): void => tunnel.send(heartbeat(++seq));
    const beats = setInterval(beat, 50);
    try {
      const health = cp.cp.store().health;
      await waitFor(() => health.failures('ingest') >= 2, 20_000, 'the ingest commit failing and being retried');
      await waitFor(() => health.failures('heartbeat flush') >= 1, 20_000, 'the heartbeat flush failing');
      expect(health.state()).toBe('unavailable');
      // Nothing of the second batch was acknowledged: the daimon keeps it spooled.
      expect(ackedKeys(tunnel)).toHaveLength(before.length);

      // API writes answer 503 with the stable code; reads and the tunnel keep working.
      const create = await cp.request('POST', '/v1/tokens', { json: { kind: 'operator', role: 'viewer', name: 'during-outage' } });
      expect(create.status).toBe(503);
      expect(errorCode(create.body)).toBe('OKS_ERR_STORE_UNAVAILABLE');
      expect((await cp.request('GET', '/v1/whoami')).status).toBe(200);
      // A hello with new facts cannot be stored either: the tunnel stays up all the same.
      tunnel.send(hello({ version: 'test-daimon-2' }));
      const acked = tunnel.ofType('heartbeat_ack').length;
      await waitFor(() => tunnel.ofType('heartbeat_ack').length > acked, 5000, 'heartbeats still answered');
      expect(tunnel.isOpen()).toBe(true);

      // Space comes back: the CP recovers by itself.
      failure.heal(base);
      await waitFor(() => ackedKeys(tunnel).length === before.length + during.length, 30_000, 'the held events acknowledged after recovery');
      expect(ackedKeys(tunnel)).toEqual([...keysOf(before), ...keysOf(during)].map((k) => `${k.run_id}/${k.seq}`));
      clearInterval(beats);
      const lastSeq = seq;
      await waitFor(() => cp.cp.store().hosts.get('web-01')?.heartbeat_seq === lastSeq, 30_000, 'the last heartbeat flushed');
      expect(health.state()).toBe('ok');
    } finally {
      clearInterval(beats);
    }

    // Nothing lost, nothing doubled; a daimon resending the batch (as after a reconnect) changes nothing either.
    expect((await cp.admin.findingsSummary()).total).toBe(510);
    tunnel.send({ type: 'events', records: during });
    await waitFor(() => ackedKeys(tunnel).length === before.length + 2 * during.length, 10_000, 'the resent batch acknowledged');
    expect((await cp.admin.findingsSummary()).total).toBe(510);
    const after = await cp.request('POST', '/v1/tokens', { json: { kind: 'operator', role: 'viewer', name: 'after-outage' } });
    expect(after.status).toBe(201);
  });

  it('fires a cron slot that fell in the outage exactly once, after the store recovers, instead of crashing or losing it', { timeout: 60_000 }, async () => {
    base = mkdtempSync(join(tmpdir(), 'okesu-full-'));
    cleanup = failure.setup(base);
    const stateDir = join(base, 'cp');
    const at = (hh: number, mm: number): number => new Date(2030, 0, 7, hh, mm, 0, 0).getTime();
    const clock = createManualClock(at(10, 2));
    h = await startCp({ stateDir, options: { clock } });
    const cp = h;
    await fakeDaimons(cp, ['web-01'], () => ({ result: { ok: true } }));
    await apply(cp, `
name: every-five
triggers: [{ cron: "*/5 * * * *" }]
steps: [{ id: a, agent: edr, node: web-01, prompt: "slot {{trigger.scheduled_at}}" }]
`);
    const health = cp.cp.store().health;
    const refusals = (): number => health.failures('cron trigger') + health.failures('triggered run start') + health.failures('orchestration advance');

    failure.inject(base, stateDir);
    // The slot's timer meets a store that refuses writes: before, the error escaped the timer (here: the clock's
    // advance rejected; in a CP: an uncaught exception).
    await clock.advanceTo(at(10, 5));
    await waitFor(() => refusals() >= 1, 10_000, 'the slot refused by the store');
    failure.heal(base);

    const runs = async (): Promise<OrchestrationRunView[]> => (await cp.request('GET', '/v1/orchestration-runs?limit=100')).body as OrchestrationRunView[];
    const fired = await waitFor(async () => {
      await clock.advance(1000);
      const r = await runs();
      return r.length > 0 ? r : undefined;
    }, 20_000, 'the slot fired after recovery');
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ name: 'every-five', trigger: { scheduled_at: at(10, 5) } });
    expect((await waitRun(cp, fired[0]?.id as string)).status).toBe('completed');
    await clock.advanceTo(at(10, 9));
    expect(await runs()).toHaveLength(1);
  });
});
