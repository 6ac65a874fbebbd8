import { afterEach, describe, expect, it } from 'vitest';
import { renderConsole, type RenderedConsole } from '../../support/frame.js';
import { CONNECTED, snapshot } from '../findings/fixtures.js';
import { rollout, rolloutHosts } from './fixtures.js';

const SNAP = '../../../../snapshots';
let c: RenderedConsole | undefined;
afterEach(() => c?.unmount());

const RUNNING = rollout('ro_00000000000000aa', rolloutHosts(['healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'rolled_back', 'staged', 'downloading', 'pending', 'pending', 'pending', 'pending']));
const HALTED = rollout('ro_00000000000000bb', rolloutHosts(['failed', 'pending', 'pending']), {
  version: '0.1.9', state: 'halted', halted_reason: 'web-01 failed: offline', created_at: RUNNING.created_at - 86_400_000, ended_at: RUNNING.created_at - 86_000_000,
});

async function rollouts(width: number) {
  c = await renderConsole({ width, height: 24, events: [CONNECTED, snapshot({ rollouts: [HALTED, RUNNING] }), { type: 'ui/jump', view: 'rollouts' }] });
  return c;
}

describe('rollouts view', () => {
  it('shows each rollout newest first with one dot per host, its bar and counts (80 columns)', async () => {
    const c = await rollouts(80);
    expect(c.frame()).toMatch(/› … ro_00000000000000aa {2}0\.2\.0 {2}running/);
    expect(c.frame()).toContain('●●●●●↺……◌◌◌◌');
    expect(c.frame()).toContain('✗ halted: web-01 failed: offline');
    expect(c.frame().indexOf('ro_00000000000000aa')).toBeLessThan(c.frame().indexOf('ro_00000000000000bb'));
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/rollouts-80.txt`);
  });

  it('is reached with :rollouts and follows the stream: a host that moves changes its dot', async () => {
    c = await renderConsole({ width: 120, height: 24, events: [CONNECTED, snapshot({ rollouts: [RUNNING] })] });
    await c.press(':', 'r', 'o', 'l', 'l', 'o', 'u', 't', 's', 'enter');
    await c.settle((f) => f.includes('ro_00000000000000aa'));
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/rollouts-120.txt`);
    const staged = RUNNING.hosts![6]!;
    const counts = { ...RUNNING.counts, staged: 0, healthy: 6 };
    const { hosts: _hosts, ...summary } = RUNNING;
    await c.dispatch({ type: 'stream', messages: [{ type: 'rollout', cursor: 10, rollout: { ...summary, counts }, host: { ...staged, state: 'healthy' } }] });
    expect(c.frame()).toContain('●●●●●↺●…◌◌◌◌');
    expect(c.frame()).toContain('healthy 6');
  });

  it('j selects the next rollout', async () => {
    const c = await rollouts(80);
    await c.press('j');
    expect(c.frame()).toMatch(/› ⏸ ro_00000000000000bb/);
  });

  it('says so when there is none', async () => {
    c = await renderConsole({ width: 80, height: 12, events: [CONNECTED, snapshot(), { type: 'ui/jump', view: 'rollouts' }] });
    expect(c.frame()).toContain('no rollouts yet');
  });
});
