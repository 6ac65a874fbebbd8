import { join } from 'node:path';
import type { RawData } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { rolloutViewSchema } from '../../src/protocol/rollout.js';
import { hello, waitFor, type CpHarness, type TestSocket } from '../cp/cp-harness.js';
import { signedReleases, startCpWithReleases } from '../cp/rollouts/rollout-support.js';
import type { CliDeps } from '../../src/cli/context.js';
import { testDeps } from './helpers.js';

/** How each fake daimon ends an upgrade it is ordered. */
const outcome: Record<string, 'healthy' | 'rolled_back'> = { 'up-1': 'healthy', 'up-2': 'healthy', 'up-3': 'rolled_back' };

describe('okesu upgrade and okesu rollouts against a real CP', () => {
  let h: CpHarness;
  const tunnels: TestSocket[] = [];

  beforeAll(async () => {
    h = await startCpWithReleases(signedReleases(['0.2.0']));
    for (const name of Object.keys(outcome)) {
      const tunnel = await h.connectHost(await h.registerHost(name), { hello: false });
      tunnel.send(hello({ version: '0.1.0', labels: { ring: name === 'up-3' ? 'late' : 'early' } }));
      // A daimon that goes through the steps of every upgrade it is ordered at once.
      tunnel.ws.on('message', (data: RawData) => {
        const frame = JSON.parse(String(data)) as { type: string; rollout_id?: string };
        if (frame.type !== 'upgrade') return;
        for (const state of ['downloading', 'verifying', 'staged', 'restarting', outcome[name]]) {
          tunnel.send({ type: 'upgrade_status', rollout_id: frame.rollout_id, version: '0.2.0', state, ...(state === 'rolled_back' && { reason: 'no heartbeat' }) });
        }
      });
      tunnels.push(tunnel);
    }
    await waitFor(async () => (await h.admin.hosts()).filter((v) => v.version === '0.1.0').length === 3, 5000, 'hosts up');
  });
  afterAll(() => h.close());

  function okesu(argv: string[], over: Partial<CliDeps> = {}) {
    const deps = testDeps({ env: { OKESU_CONFIG: join(h.stateDir, 'admin.yaml') }, now: Date.now, ...over });
    return { deps, done: runCli(argv, deps) };
  }

  it('--wait follows a canary and a batch to the end: exit 0 when all are healthy, with progress on stderr', async () => {
    const run = okesu(['upgrade', '--selector', 'label:ring=early', '--version', '0.2.0', '--canary', '1', '--wait']);
    expect(await run.done).toBe(0);
    expect(run.deps.stdout.text()).toMatch(/^ro_[0-9a-f]{16} completed: \[#{20}\] 2\/2 {2}completed {2}healthy 2\n$/);
    const progress = run.deps.stderr.lines().filter((l) => l.startsWith('ro_'));
    expect(progress[0]).toMatch(/\[-{20}\] 0\/2 {2}pending 2$/);
    expect(progress.at(-1)).toMatch(/2\/2 {2}completed {2}healthy 2$/);

    const hosts = okesu(['hosts']);
    expect(await hosts.done).toBe(0);
    expect(hosts.deps.stdout.text()).toMatch(/up-1\s+tunnel\s+-\s+0\.1\.0\s+healthy 0\.2\.0/);
  }, 20_000);

  it('--wait exits 1 when a host rolls back, and lists it; rollouts shows the list and one rollout', async () => {
    const run = okesu(['upgrade', '--host', 'up-3', '--version', '0.2.0', '--wait', '--json']);
    expect(await run.done).toBe(1);
    const view = rolloutViewSchema.parse(JSON.parse(run.deps.stdout.text()));
    expect(view.hosts).toEqual([expect.objectContaining({ hostname: 'up-3', state: 'rolled_back', reason: 'no heartbeat', from_version: '0.1.0' })]);

    const list = okesu(['rollouts']);
    expect(await list.done).toBe(0);
    expect(list.deps.stdout.lines()[0]).toMatch(/^ROLLOUT\s+CREATED\s+VERSION\s+STATE\s+PROGRESS/);
    expect(list.deps.stdout.text()).toContain(view.rollout_id);

    const one = okesu(['rollouts', view.rollout_id]);
    expect(await one.done).toBe(0);
    expect(one.deps.stdout.text()).toMatch(/up-3\s+0\s+rolled_back\s+0\.1\.0\s+no heartbeat/);
  }, 20_000);

  it('--wait polls when the live stream is not available', async () => {
    // A stream that never comes up: the follow falls back to GET /v1/rollouts/:id.
    const openStream: CliDeps['openStream'] = (_config, opts) => {
      setImmediate(() => opts.onState?.('closed', 'refused by the test'));
      return { close: () => undefined, cursor: () => undefined };
    };
    const run = okesu(['upgrade', '--host', 'up-1', '--host', 'up-2', '--version', '0.2.0', '--batch', '1', '--wait'], { openStream });
    expect(await run.done).toBe(0);
    expect(run.deps.stderr.text()).toContain('live stream not available (refused by the test); polling every 1000 ms');
    expect(run.deps.stdout.text()).toMatch(/completed: \[#{20}\] 2\/2/);
  }, 20_000);

  it('refuses a missing target or a bad version as usage errors, and a release the CP does not have', async () => {
    const none = okesu(['upgrade', '--version', '0.2.0']);
    expect(await none.done).toBe(2);
    expect(none.deps.stderr.text()).toContain('give exactly one of --host');
    const bad = okesu(['upgrade', '--all', '--version', 'latest']);
    expect(await bad.done).toBe(2);
    const missing = okesu(['upgrade', '--all', '--version', '7.0.0']);
    expect(await missing.done).toBe(1);
    expect(missing.deps.stderr.text()).toContain('OKS_ERR_NOT_FOUND');
    const cancel = okesu(['rollouts', 'cancel', 'ro_0000000000000000']);
    expect(await cancel.done).toBe(1);
  });
});
