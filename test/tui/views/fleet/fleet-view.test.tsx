import { afterEach, describe, expect, test } from 'vitest';
import { emptySummary } from '../../../../tui/store/initial-state.js';
import { snapshot } from '../../store/fixtures.js';
import { hostAt, manyHosts, mixedFleet, MIXED_OPEN } from '../../support/fleet-data.js';
import { FRAME_NOW, renderConsole, type RenderedConsole } from '../../support/frame.js';

const summary = { ...emptySummary(), open_by_host: MIXED_OPEN, open_by_severity: { CRITICAL: 1, HIGH: 4, MEDIUM: 10, LOW: 0, INFO: 0 } };
const open = { type: 'connection', state: 'open', detail: null, at: FRAME_NOW } as const;
let c: RenderedConsole | undefined;
afterEach(() => c?.unmount());

/** The table's body lines (those starting with the selection marker column), without the marker. */
function hostnames(frame: string): string[] {
  return frame
    .split('\n')
    .filter((l) => /^[› ] [●◐○] /.test(l))
    .map((l) => l.slice(2).trim().split(/\s+/)[2]!);
}

describe('fleet view', () => {
  test('before the first load it says it is connecting', async () => {
    c = await renderConsole({ width: 80, height: 24 });
    expect(c.frame()).toContain('connecting to the CP…');
    expect(c.frame()).toContain('◌ connecting…');
    await expect(c.frame()).toMatchFileSnapshot('../../../../snapshots/fleet-connecting.txt');
  });

  test('an empty fleet says how to add a host', async () => {
    c = await renderConsole({ width: 80, height: 24, events: [snapshot(), open] });
    expect(c.frame()).toContain('no hosts yet');
    await expect(c.frame()).toMatchFileSnapshot('../../../../snapshots/fleet-empty.txt');
  });

  test('online, stale and offline hosts each show glyph and word, age, runs and open findings', async () => {
    c = await renderConsole({ width: 100, height: 20, events: [snapshot({ hosts: mixedFleet(), summary }), open] });
    const frame = c.frame();
    expect(frame).toMatch(/● online\s+web-01\s+wss\s+0\.1\.0\s+4s\s+1\s+3/);
    expect(frame).toMatch(/◐ stale\s+db-01\s+wss\s+0\.0\.9\s+1m\s+0\s+12/);
    expect(frame).toMatch(/○ offline\s+cache-01\s+https\s+0\.1\.0\s+2h\s+0\s+0/);
    expect(frame).toContain('●3 online ◐1 stale ○1 offline');
    await expect(frame).toMatchFileSnapshot('../../../../snapshots/fleet-hosts.txt');
  });

  test('/ filters live by hostname, label and state; esc clears it', async () => {
    c = await renderConsole({ width: 100, height: 20, events: [snapshot({ hosts: mixedFleet(), summary }), open] });
    await c.press('/', 'e', 'n', 'v', '=', 'p', 'r', 'o', 'd');
    expect(hostnames(c.frame()).sort()).toEqual(['batch-01', 'db-01', 'web-01']);
    expect(c.frame()).toContain('/env=prod');
    await c.press('enter');
    await expect(c.frame()).toMatchFileSnapshot('../../../../snapshots/fleet-filtered.txt');
    await c.press('/', 'backspace', 'backspace', 'backspace', 'backspace', 'backspace', 'backspace', 'backspace', 'backspace', 's', 't', 'a', 'l', 'e', 'enter');
    expect(hostnames(c.frame())).toEqual(['db-01']);
    await c.press('esc');
    expect(hostnames(c.frame())).toHaveLength(5);
  });

  test('a filter that matches nothing says so', async () => {
    c = await renderConsole({ width: 100, height: 20, events: [snapshot({ hosts: mixedFleet(), summary }), open] });
    await c.press('/', 'z', 'z', 'z');
    expect(c.frame()).toContain('no host matches the filter');
  });

  test('s cycles the sort column and S reverses it', async () => {
    c = await renderConsole({ width: 100, height: 20, events: [snapshot({ hosts: mixedFleet(), summary }), open] });
    expect(hostnames(c.frame())).toEqual(['batch-01', 'cache-01', 'db-01', 'web-01', 'web-02']);
    await c.press('S');
    expect(hostnames(c.frame())).toEqual(['web-02', 'web-01', 'db-01', 'cache-01', 'batch-01']);
    await c.press('s'); // state, ascending: online, stale, offline
    expect(hostnames(c.frame())).toEqual(['batch-01', 'web-01', 'web-02', 'db-01', 'cache-01']);
    await c.press('s', 's', 's'); // transport, version, heartbeat (youngest first)
    expect(c.frame()).toContain('HEARTBEAT↑');
    expect(hostnames(c.frame())).toEqual(['web-02', 'web-01', 'batch-01', 'db-01', 'cache-01']);
    await c.press('s', 's', 'S'); // runs, findings, reversed: most open findings first
    expect(hostnames(c.frame()).slice(0, 2)).toEqual(['db-01', 'web-01']);
    await expect(c.frame()).toMatchFileSnapshot('../../../../snapshots/fleet-sorted.txt');
  });

  test('j/k move the selection, enter opens the host, d opens dispatch for it', async () => {
    c = await renderConsole({ width: 100, height: 20, events: [snapshot({ hosts: mixedFleet(), summary }), open] });
    await c.press('j', 'j', 'k', 'j');
    expect(c.frame()).toMatch(/› ◐ stale\s+db-01/);
    await c.press('enter');
    expect(c.frame()).toContain('fleet › host db-01');
    await c.press('esc', 'G', 'd');
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'dispatch', key: 'web-02' });
  });

  test('keys arriving in one chunk are handled in order', async () => {
    c = await renderConsole({ width: 100, height: 20, events: [snapshot({ hosts: mixedFleet(), summary }), open] });
    await c.write('jjj');
    expect(c.frame()).toMatch(/› ● online\s+web-01/);
    await c.write('k\r');
    expect(c.frame()).toContain('fleet › host db-01');
  });

  test('a viewer pressing d is told why it is disabled', async () => {
    c = await renderConsole({ width: 100, height: 20, role: 'viewer', events: [snapshot({ hosts: mixedFleet(), summary }), open] });
    expect(c.frame()).toContain('⊘d dispatch to this host');
    await c.press('d');
    expect(c.frame()).toContain('d: dispatch to this host — needs the operator role; you are viewer');
    expect(c.store.getState().ui.stack).toEqual([{ view: 'fleet' }]);
    await expect(c.frame()).toMatchFileSnapshot('../../../../snapshots/fleet-viewer-disabled.txt');
  });

  test('the heartbeat age ticks without any event', async () => {
    let now = FRAME_NOW;
    c = await renderConsole({ width: 100, height: 20, now: () => now, events: [snapshot({ hosts: [hostAt('web-01', 4_000)] }), open] });
    expect(c.frame()).toMatch(/web-01\s+wss\s+0\.1\.0\s+4s/);
    now += 5_000;
    await c.settle((f) => /web-01\s+wss\s+0\.1\.0\s+9s/.test(f), 3_000);
  });

  test('a hostile hostname cannot inject escapes', async () => {
    const evil = hostAt('evil', 1_000, { hostname: 'ev\u001B]0;owned\u0007il\u001B[2J\r\nx', labels: { k: 'v\u001B[31m' } });
    c = await renderConsole({ width: 120, height: 20, events: [snapshot({ hosts: [evil] }), open] });
    // eslint-disable-next-line no-control-regex -- no control characters may reach the terminal
    expect(c.frame()).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/);
    expect(c.frame()).toContain('ev\\x1b]0;owned\\x07il\\x1b[2J x');
  });
});

describe('fleet view with 10,000 hosts', () => {
  const hosts = manyHosts(10_000);

  test('80×24 shows a window of rows and keeps the selection visible', async () => {
    c = await renderConsole({ width: 80, height: 24, events: [snapshot({ hosts }), open] });
    expect(c.frame().split('\n')).toHaveLength(23);
    expect(c.frame()).toContain('10000 hosts · 1/10000');
    await c.press('pagedown', 'pagedown', 'j');
    expect(c.frame()).toContain(`› `);
    expect(c.frame()).toMatch(/› .*host-000\d\d/);
    await c.press('G');
    expect(c.frame()).toMatch(/› .*host-10000/);
    await expect(c.frame()).toMatchFileSnapshot('../../../../snapshots/fleet-10k-80x24.txt');
  });

  test('120×40 uses the room: more rows and a labels column', async () => {
    c = await renderConsole({ width: 120, height: 40, events: [snapshot({ hosts }), open] });
    expect(c.frame().split('\n')).toHaveLength(39);
    expect(c.frame()).toContain('LABELS');
    expect(hostnames(c.frame()).length).toBeGreaterThan(25);
    await expect(c.frame()).toMatchFileSnapshot('../../../../snapshots/fleet-10k-120x40.txt');
  });
});
