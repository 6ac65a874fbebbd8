import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HostView } from '../../src/protocol/api.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import { OKESU, okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, TEST_AGENTS, type OkesuProcess } from './harness.js';

const procs: OkesuProcess[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
});

describe('the daimon as one file', () => {
  it('runs from a lone copy of the bundle (no node_modules, no native modules) and runs an agent the CP sends with the dispatch', async () => {
    const cp = await startCp(tempDir('cp'), 0, ['--agents', TEST_AGENTS]);
    procs.push(cp.proc);
    const lonely = tempDir('bundle');
    const binary = join(lonely, 'okesu.js');
    copyFileSync(OKESU, binary);
    expect(existsSync(join(lonely, 'node_modules'))).toBe(false);

    const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
    procs.push(spawnOkesu(['daemon', '--cp', cp.url, '--token', token, '--state', join(lonely, 'state'), '--hostname', 'lone-01'], {}, binary));
    await waitFor('lone-01 online', async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).some((h) => h.hostname === 'lone-01' && h.connected));

    // The host has no copy of emit-findings: the definition travels with the dispatch.
    const run = await runOkesu(['run', 'emit-findings', '--host', 'lone-01', '--wait'], cp.env);
    expect(run.code, run.stderr).toBe(0);
    const findings = await okesuJson<StoredFinding[]>(['findings', '--host', 'lone-01'], cp.env);
    expect(findings).toHaveLength(3);
  });
});
