import { afterEach, describe, expect, it } from 'vitest';
import type { ConsoleEvent } from '../../../../tui/store/events.js';
import { renderConsole, type RenderedConsole } from '../../support/frame.js';
import { anchoredFinding } from '../../../../tui/views/findings/feed-anchor.js';
import { burst, cluster, CONNECTED, finding, group, NOW, snapshot, summary } from './fixtures.js';

const SNAP = '../../../../snapshots';
let c: RenderedConsole | undefined;
afterEach(() => c?.unmount());

/** The findings view over a burst of 50 findings, 3 groups and 2 clusters, as `role`. */
async function findings(opts: { role?: 'viewer' | 'operator'; width?: number; height?: number; events?: ConsoleEvent[] } = {}) {
  c = await renderConsole({
    role: opts.role,
    width: opts.width ?? 100,
    height: opts.height ?? 30,
    events: [
      CONNECTED,
      snapshot({
        findings: burst(50),
        summary: summary(),
        groups: [group(0), group(1), group(2, { open: 0 })],
        clusters: [cluster('203.0.113.7'), cluster('evil.example', { kind: 'domain', findings: 5, hosts: 2, sample_hosts: ['web-02', 'db-01'], max_severity: 'MEDIUM' })],
      }),
      { type: 'ui/jump', view: 'findings' },
      ...(opts.events ?? []),
    ],
  });
  return c;
}

describe('findings view: sub-views', () => {
  it('shows a burst of findings newest first, severity as glyph and word, windowed to the screen', async () => {
    const c = await findings();
    const frame = c.frame();
    expect(frame).toContain('[feed]');
    expect(frame).toContain('50 findings');
    // Newest (id 50, one second before now) on top; older ones past the window are not drawn.
    const rows = frame.split('\n').filter((l) => /\d\d:\d\d:\d\d/.test(l));
    expect(rows[0]).toMatch(/^› 11:59:59 ■ MED\s+edge-03/);
    expect(rows.length).toBeLessThan(50);
    await expect(frame).toMatchFileSnapshot(`${SNAP}/findings-feed-burst.txt`);
  });

  it('tab cycles groups, clusters and breakdown, each starting at its top', async () => {
    const c = await findings();
    await c.press('j', 'j', 'tab');
    expect(c.frame()).toContain('[groups]');
    expect(c.frame()).toMatch(/› ▲ HIGH\s+×10 Reverse shell/);
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/findings-groups.txt`);
    await c.press('tab');
    expect(c.frame()).toContain('[clusters]');
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/findings-clusters.txt`);
    await c.press('tab');
    expect(c.frame()).toContain('[breakdown]');
    expect(c.frame()).toContain('Severity (240 findings, 31 groups)');
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/findings-breakdown.txt`);
    await c.press('tab');
    expect(c.frame()).toContain('[feed]');
  });

  it('applies the frame filter from the host view and the / filter on top of it', async () => {
    const c = await findings({ events: [{ type: 'ui/push', frame: { view: 'findings', filter: 'host:web-01' } }] });
    const hosts = (f: string) => new Set(f.split('\n').filter((l) => /\d\d:\d\d:\d\d/.test(l)).map((l) => l.split(/\s+/)[4]));
    expect(hosts(c.frame())).toEqual(new Set(['web-01']));
    expect(c.frame()).toContain('10 findings');
    await c.press('/', 's', 'h', 'e', 'l', 'l', 'enter');
    const expected = burst(50).filter((f) => f.host === 'web-01' && f.title.includes('shell'));
    expect(expected.length).toBeGreaterThan(0);
    expect(c.frame()).toContain(`${expected.length} findings`);
    expect(c.frame().split('\n').filter((l) => /\d\d:\d\d:\d\d/.test(l)).every((l) => l.includes('web-01') && l.includes('Reverse shell'))).toBe(true);
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/findings-feed-filtered.txt`);
  });
});

describe('findings view: triage', () => {
  it('a/x/p/o triage the selected finding of the feed', async () => {
    const c = await findings();
    await c.press('j', 'a', 'x', 'p', 'o');
    // Second newest is id 49.
    expect(c.calls.filter((x) => x.name === 'triage').map((x) => x.args)).toEqual([
      [49, 'acknowledged', 'finding'],
      [49, 'resolved', 'finding'],
      [49, 'false_positive', 'finding'],
      [49, 'open', 'finding'],
    ]);
  });

  it('shows a viewer why triage is disabled, and does not call it', async () => {
    const c = await findings({ role: 'viewer' });
    await c.press('a');
    expect(c.frame()).toContain('acknowledge — needs the operator role; you are viewer');
    expect(c.calls.some((x) => x.name === 'triage')).toBe(false);
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/findings-viewer-disabled.txt`);
  });

  it('asks before triaging a whole group: n cancels, y triages the group through its last finding', async () => {
    const c = await findings();
    await c.press('tab', 'j', 'x');
    expect(c.frame()).toContain('Resolve all 11 findings of "SSH key added to root"? [y/n]');
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/findings-group-confirm.txt`);
    await c.press('n');
    expect(c.frame()).not.toContain('[y/n]');
    expect(c.calls.some((x) => x.name === 'triage')).toBe(false);
    await c.press('a', 'y');
    expect(c.calls.filter((x) => x.name === 'triage').map((x) => x.args)).toEqual([[101, 'acknowledged', 'group']]);
  });
});

describe('findings view: a live feed under the cursor', () => {
  const arrive = (...ids: number[]): ConsoleEvent => ({
    type: 'stream',
    messages: ids.map((id) => ({ type: 'finding' as const, cursor: 1000 + id, finding: finding(id, { title: `new ${id}`, ts: NOW }) })),
  });

  it('keeps the selection on its finding as new ones arrive above it, and keys act on it', async () => {
    const c = await findings();
    await c.press('j', 'j');
    expect(c.frame()).toMatch(/› 11:59:57 /);
    await c.dispatch(arrive(901, 902, 903));
    expect(c.frame()).toContain('53 findings');
    expect(c.frame()).toMatch(/› 11:59:57 /);
    await c.press('a');
    expect(c.calls.filter((x) => x.name === 'triage').map((x) => x.args)).toEqual([[48, 'acknowledged', 'finding']]);
  });

  it('at the top follows the newest finding, like tail -f', async () => {
    const c = await findings();
    await c.dispatch(arrive(901));
    expect(c.frame()).toMatch(/› 12:00:00 .*new 901/);
    await c.press('x');
    expect(c.calls.filter((x) => x.name === 'triage').map((x) => x.args)).toEqual([[901, 'resolved', 'finding']]);
  });

  it('acts on the finding drawn when one arrives between the frame and the key', () => {
    const list = burst(5).reverse();
    const drawn = { id: list[2]!.id, index: 2 };
    const shifted = [finding(900), ...list];
    expect(anchoredFinding(shifted, 2, drawn)?.id).toBe(list[2]!.id);
    // The selection moved since the frame (a j in the same chunk): the finding at the new index.
    expect(anchoredFinding(shifted, 3, drawn)?.id).toBe(shifted[3]!.id);
    expect(anchoredFinding(shifted, 1, null)?.id).toBe(shifted[1]!.id);
  });
});

describe('findings view: drilling in', () => {
  it('enter on the feed opens the finding', async () => {
    const c = await findings();
    await c.press('j', 'j', 'enter');
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'finding', key: '48' });
  });

  it("enter on a group shows its findings (the feed filtered to its fingerprint); esc goes back to the groups", async () => {
    const c = await findings();
    await c.press('tab', 'enter');
    expect(c.store.getState().ui.stack.at(-1)).toMatchObject({ view: 'findings', filter: 'fp:fp-0' });
    expect(c.frame()).toContain('[feed]');
    const titles = c.frame().split('\n').filter((l) => /\d\d:\d\d:\d\d/.test(l));
    expect(titles.length).toBeGreaterThan(0);
    expect(titles.every((l) => l.includes('Reverse shell to 203.0.113.7'))).toBe(true);
    await c.press('esc');
    expect(c.store.getState().ui.stack).toEqual([{ view: 'findings' }]);
    await c.settle((f) => f.includes('[groups]'));
  });

  it('enter on a cluster shows the findings carrying its indicator', async () => {
    const c = await findings({
      events: [{ type: 'stream', messages: [{ type: 'finding', cursor: 1000, finding: finding(900, { title: 'Beacon to 203.0.113.7', indicators: ['203.0.113.7'], ts: Date.UTC(2026, 0, 15, 12, 0, 0) }) }] }],
    });
    await c.press('tab', 'tab', 'enter');
    const rows = c.frame().split('\n').filter((l) => /\d\d:\d\d:\d\d/.test(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('Beacon to 203.0.113.7');
  });
});
