import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import type { HostView } from '../../src/protocol/api.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import { okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, TEST_AGENTS, type CpProcess, type OkesuProcess } from './harness.js';

const procs: OkesuProcess[] = [];
const track = (p: OkesuProcess): OkesuProcess => (procs.push(p), p);
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
});

async function startCpTracked(dir: string, port = 0): Promise<CpProcess> {
  const cp = await startCp(dir, port, ['--heartbeat-interval', '200ms']);
  track(cp.proc);
  return cp;
}
const hostState = async (cp: CpProcess, name: string): Promise<HostView | undefined> =>
  (await okesuJson<HostView[]>(['hosts'], cp.env)).find((h) => h.hostname === name);

describe('the spine, end to end with real processes', () => {
  it('registers, goes stale then offline when stopped, and comes back with the same identity and no token', async () => {
    const cp = await startCpTracked(tempDir('cp'));
    const join1 = await runOkesu(['token', 'create', '--join', '--uses', '1'], cp.env);
    expect(join1.code).toBe(0);
    const token = join1.stdout.trim();
    expect(token).toMatch(/^okj_[0-9a-f]{16}_[0-9a-f]{64}_[A-Za-z0-9_-]{43}$/);

    const state = tempDir('daimon');
    let daimon = track(spawnOkesu(['daemon', '--cp', cp.url, '--token', token, '--state', state, '--hostname', 'e2e-a', '--label', 'env=test']));
    const online = await waitFor('e2e-a online', async () => {
      const h = await hostState(cp, 'e2e-a');
      return h?.state === 'online' ? h : undefined;
    });
    expect(online).toMatchObject({ hostname: 'e2e-a', transport: 'tunnel', labels: { env: 'test' } });
    expect(online.version).not.toBe('');
    for (const f of ['identity.json', 'key.pem']) expect(statSync(join(state, f)).mode & 0o777).toBe(0o600);

    await stop(daimon);
    await waitFor('e2e-a stale', async () => (await hostState(cp, 'e2e-a'))?.state === 'stale');
    await waitFor('e2e-a offline', async () => (await hostState(cp, 'e2e-a'))?.state === 'offline');

    // The single-use token is spent: coming back online proves the stored identity is used.
    daimon = track(spawnOkesu(['daemon', '--cp', cp.url, '--state', state]));
    await waitFor('e2e-a online again', async () => (await hostState(cp, 'e2e-a'))?.state === 'online');
    const hosts = await okesuJson<HostView[]>(['hosts'], cp.env);
    expect(hosts.filter((h) => h.hostname === 'e2e-a')).toHaveLength(1);
    expect(hosts[0]?.registered_at).toBe(online.registered_at);
  });

  it('runs a custom-provider agent: findings reach `okesu findings` and a running `okesu tail --json`, across a CP restart', async () => {
    const dir = tempDir('cp');
    let cp = await startCpTracked(dir);
    const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
    track(spawnOkesu(['daemon', '--cp', cp.url, '--token', token, '--state', tempDir('daimon'), '--hostname', 'e2e-b', '--agents', TEST_AGENTS]));
    await waitFor('e2e-b online', async () => (await hostState(cp, 'e2e-b'))?.state === 'online');

    // --since replays history first, so the test does not depend on when each tail connects.
    const tail = track(spawnOkesu(['tail', '--json', '--since', '1h'], cp.env));
    const tailHigh = track(spawnOkesu(['tail', '--json', '--severity', 'high', '--since', '1h'], cp.env));

    const run = await runOkesu(['run', 'emit-findings', '--host', 'e2e-b', '--wait'], cp.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Reverse shell spawned by web server');

    const findings = await okesuJson<StoredFinding[]>(['findings'], cp.env);
    expect(findings.map((f) => f.severity).sort()).toEqual(['CRITICAL', 'HIGH', 'LOW']);
    for (const f of findings) expect(f).toMatchObject({ host: 'e2e-b', agent: 'emit-findings', agent_version: '2.1.0', status: 'open' });
    expect(findings.find((f) => f.severity === 'CRITICAL')?.indicators).toContain('ip:203.0.113.7');

    const parse = (p: OkesuProcess): StoredFinding[] => p.stdoutLines.filter(Boolean).map((l) => JSON.parse(l) as StoredFinding);
    await waitFor('tail printed 3', () => parse(tail).length === 3);
    await waitFor('tail --severity high printed 2', () => parse(tailHigh).length === 2);
    expect(parse(tail).map((f) => f.id).sort()).toEqual(findings.map((f) => f.id).sort());
    expect(parse(tailHigh).map((f) => f.severity).sort()).toEqual(['CRITICAL', 'HIGH']);

    // Restart the CP on the same port: tail reconnects by itself and neither loses nor repeats a finding.
    await stop(cp.proc);
    cp = await startCpTracked(dir, cp.port);
    await waitFor('e2e-b back online', async () => (await hostState(cp, 'e2e-b'))?.state === 'online' && (await hostState(cp, 'e2e-b'))?.connected);
    const again = await runOkesu(['run', 'emit-findings', '--host', 'e2e-b', '--wait', '--json'], cp.env);
    expect(again.code, again.stderr).toBe(0);
    await waitFor('tail printed 6', () => parse(tail).length === 6, 20_000);
    const ids = parse(tail).map((f) => f.id);
    expect(new Set(ids).size).toBe(6);

    const summary = await okesuJson<{ total: number; groups: number }>(['findings', 'summary'], cp.env);
    expect(summary).toMatchObject({ total: 6, groups: 3 });
  });
});
