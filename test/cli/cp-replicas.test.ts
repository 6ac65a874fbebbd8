import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { replicasSummary, sortReplicas } from '../../src/cli/commands/cp-replicas.js';
import { lineText } from '../../src/cli/output.js';
import { replicasResponseSchema, type ReplicasResponse, type ReplicaView } from '../../src/protocol/replicas.js';
import type { OperatorClient } from '../../src/transport/operator-client.js';
import { startCp, type CpHarness } from '../cp/cp-harness.js';
import { NOW, TOKEN, testDeps } from './helpers.js';
import { expectTerminalSafe, HOSTILE, HOSTILE_SHORT } from './hostile-text.js';

describe('okesu cp replicas against a single CP', () => {
  let h: CpHarness;
  beforeAll(async () => {
    h = await startCp();
  });
  afterAll(() => h.close());

  const okesu = async (argv: string[]) => {
    const deps = testDeps({ env: { OKESU_CONFIG: join(h.stateDir, 'admin.yaml') }, now: Date.now });
    const code = await runCli(argv, deps);
    return { code, stdout: deps.stdout.text(), stderr: deps.stderr.text() };
  };

  it('--json: mode single, one replica, and it leads', async () => {
    const r = await okesu(['cp', 'replicas', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = replicasResponseSchema.parse(JSON.parse(r.stdout));
    expect(view.mode).toBe('single');
    expect(view.replicas).toHaveLength(1);
    const [only] = view.replicas;
    expect(only).toMatchObject({ leader: true, alive: true, tunnels: 0 });
    expect(view.answered_by).toBe(only?.id);
  });

  it('the table has one leader row and the status names the mode', async () => {
    const r = await okesu(['cp', 'replicas']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+LEADER\s+ALIVE\s+TUNNELS\s+LOAD\s+VERSION\s+URL\s+HEARD$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/★ yes\s+● yes\s+0\s+\d+\.\d\d\s+test\s/);
    expect(r.stderr).toMatch(/^mode single, 1\/1 alive, answered by \S+$/m);
  });
});

const replica = (over: Partial<ReplicaView>): ReplicaView => ({
  id: 'cp-a', url: 'https://10.0.0.1:8443', version: '0.1.0', started_at: NOW - 60_000, heard_at: NOW - 1000, alive: true, tunnels: 3, load: 0.5, leader: false, ...over,
});

describe('okesu cp replicas output', () => {
  it('shows text from the server escaped, never raw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okesu-replicas-'));
    const config = join(dir, 'admin.yaml');
    writeFileSync(config, `cp: https://127.0.0.1:8443\ntoken: ${TOKEN}\nca: "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----"\n`);
    const hostile = replica({ id: 'cp-\x1b[2Jevil', url: `https://x/${HOSTILE}`, version: HOSTILE_SHORT, leader: true });
    const view: ReplicasResponse = { replicas: [hostile], answered_by: HOSTILE, mode: 'cluster', bus_connected: true };
    const client = { replicas: () => Promise.resolve(view) } as Partial<OperatorClient> as OperatorClient;
    const deps = testDeps({ env: { OKESU_CONFIG: config }, createClient: () => client });
    expect(await runCli(['cp', 'replicas'], deps)).toBe(0);
    expectTerminalSafe(deps.stdout.text(), 'stdout');
    expectTerminalSafe(deps.stderr.text(), 'stderr');
    expect(deps.stdout.lines()).toHaveLength(2);
    expect(deps.stdout.text()).toContain('cp-\\x1b[2Jevil');
  });

  it('orders the leader first, then alive, then by id', () => {
    const rows = sortReplicas([replica({ id: 'c', alive: false }), replica({ id: 'b' }), replica({ id: 'z', leader: true }), replica({ id: 'a' })]);
    expect(rows.map((r) => r.id)).toEqual(['z', 'a', 'b', 'c']);
  });

  it.each([
    [{ leaders: 1, bus: true }, 'mode cluster, 2/3 alive, answered by cp-a'],
    [{ leaders: 0, bus: true }, 'mode cluster, 2/3 alive, answered by cp-a; ⚠ no leader'],
    [{ leaders: 2, bus: false }, 'mode cluster, 2/3 alive, answered by cp-a; ⚠ 2 leaders; ✗ bus disconnected'],
  ])('summarises %o', ({ leaders, bus }, expected) => {
    const replicas = [replica({ id: 'cp-a', leader: leaders >= 1 }), replica({ id: 'cp-b', leader: leaders >= 2 }), replica({ id: 'cp-c', alive: false })];
    expect(lineText(replicasSummary({ replicas, answered_by: 'cp-a', mode: 'cluster', bus_connected: bus }))).toBe(expected);
  });
});
