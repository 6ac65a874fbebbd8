import { afterEach, describe, expect, it } from 'vitest';
import type { HostView } from '../../src/protocol/api.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import { okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, TEST_AGENTS, type CpProcess, type OkesuProcess } from './harness.js';

const procs: OkesuProcess[] = [];
const track = (p: OkesuProcess): OkesuProcess => (procs.push(p), p);
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
});

const total = async (cp: CpProcess): Promise<number> => (await okesuJson<{ total: number }>(['findings', 'summary'], cp.env)).total;
const online = async (cp: CpProcess, name: string): Promise<boolean> =>
  (await okesuJson<HostView[]>(['hosts'], cp.env)).some((h) => h.hostname === name && h.state === 'online' && h.connected);

async function fleetOfOne(hostname: string): Promise<{ cp: CpProcess; dir: string; state: string; daimon: OkesuProcess }> {
  const dir = tempDir('cp');
  const cp = await startCp(dir, 0, ['--heartbeat-interval', '500ms']);
  track(cp.proc);
  const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
  const state = tempDir('daimon');
  const daimon = track(spawnOkesu(['daemon', '--cp', cp.url, '--token', token, '--state', state, '--hostname', hostname, '--agents', TEST_AGENTS]));
  await waitFor(`${hostname} online`, () => online(cp, hostname));
  return { cp, dir, state, daimon };
}

describe('durable delivery across kill -9', () => {
  it('kill -9 of the CP while a daimon streams 10,000 events: after restart every event is stored exactly once', async () => {
    const fleet = await fleetOfOne('e2e-c');
    let cp = fleet.cp;
    // `run --wait` follows the run through the CP's death and restart (it retries while the CP is away).
    const follower = track(spawnOkesu(['run', 'flood', '--host', 'e2e-c', '--input', 'count=10000', '--input', 'batch=100', '--input', 'every_ms=25', '--wait', '--json'], cp.env));
    await waitFor('some findings stored', async () => (await total(cp)) >= 1500, 60_000);

    cp.proc.kill('SIGKILL');
    await cp.proc.exited;
    cp = await startCp(fleet.dir, cp.port, ['--heartbeat-interval', '500ms']);
    track(cp.proc);

    expect(await follower.exited, follower.stderr()).toBe(0);
    await waitFor('all 10,000 stored', async () => (await total(cp)) >= 10_000, 60_000);
    const summary = await okesuJson<{ total: number; groups: number }>(['findings', 'summary'], cp.env);
    expect(summary).toEqual(expect.objectContaining({ total: 10_000, groups: 10_000 }));
    const findings = await okesuJson<StoredFinding[]>(['findings', '--limit', '100000'], cp.env);
    expect(new Set(findings.map((f) => f.dedup_key)).size).toBe(10_000);
    expect(new Set(findings.map((f) => f.seq)).size).toBe(10_000);

    // `tail --since` pages through the whole history (more than one page), each finding once.
    const tail = track(spawnOkesu(['tail', '--since', '1h', '--json'], cp.env));
    await waitFor('tail replayed 10,000', () => tail.stdoutLines.filter(Boolean).length >= 10_000, 30_000);
    expect(new Set(tail.stdoutLines.filter(Boolean).map((l) => (JSON.parse(l) as StoredFinding).id)).size).toBe(10_000);
  });

  it('kill -9 of the daimon mid-stream: its spool replays on restart, nothing lost or doubled, and the run ends failed', async () => {
    const fleet = await fleetOfOne('e2e-d');
    const cp = fleet.cp;
    const follower = track(spawnOkesu(['run', 'flood', '--host', 'e2e-d', '--input', 'count=20000', '--input', 'batch=200', '--input', 'every_ms=20', '--wait', '--json'], cp.env));
    const before = await waitFor('some findings stored', async () => {
      const n = await total(cp);
      return n >= 1000 && n;
    }, 60_000);

    fleet.daimon.kill('SIGKILL');
    await fleet.daimon.exited;
    track(spawnOkesu(['daemon', '--cp', cp.url, '--state', fleet.state, '--agents', TEST_AGENTS]));

    // The run died with its daimon: the restarted daimon reports it failed, so the follower exits 3 (a run failed).
    expect(await follower.exited).toBe(3);
    const findings = await okesuJson<StoredFinding[]>(['findings', '--agent', 'flood', '--limit', '100000'], cp.env);
    expect(findings.length).toBeGreaterThanOrEqual(before);
    const seqs = findings.map((f) => f.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(seqs.length);
    // Contiguous sequence numbers: every event the daimon spooled before dying arrived, in order, once.
    expect(seqs[seqs.length - 1]! - seqs[0]! + 1).toBe(seqs.length);
    expect(new Set(findings.map((f) => f.dedup_key)).size).toBe(findings.length);
  });
});
