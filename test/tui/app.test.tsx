import { afterEach, describe, expect, test, vi } from 'vitest';
import { SCOPE_TITLES } from '../../tui/components/help-layout.js';
import { BINDINGS } from '../../tui/keys/bindings.js';
import { FLASH_MS } from '../../tui/store/ui-state.js';
import { snapshot } from './store/fixtures.js';
import { mixedFleet } from './support/fleet-data.js';
import { FRAME_NOW, renderConsole, type RenderedConsole } from './support/frame.js';

const at = FRAME_NOW;
let c: RenderedConsole | undefined;
afterEach(() => {
  c?.unmount();
  c = undefined;
  vi.useRealTimers();
});

describe('header', () => {
  test('says reconnecting… after the stream fell, with why', async () => {
    c = await renderConsole({
      width: 100,
      height: 16,
      events: [
        snapshot({ hosts: mixedFleet() }),
        { type: 'connection', state: 'open', detail: null, at },
        { type: 'connection', state: 'connecting', detail: 'socket hang up', at },
      ],
    });
    expect(c.frame().split('\n')[0]).toBe('okesu console  cp https://cp.test:8443  ◐ reconnecting… (socket hang up)  alice (operator)');
    await expect(c.frame()).toMatchFileSnapshot('../../snapshots/header-reconnecting.txt');
    await c.dispatch({ type: 'connection', state: 'closed', detail: 'ECONNREFUSED', at });
    expect(c.frame()).toContain('○ disconnected (ECONNREFUSED) — reconnecting…');
    await c.dispatch({ type: 'connection', state: 'open', detail: null, at });
    expect(c.frame()).toContain('● connected');
  });
});

describe('help overlay', () => {
  test('? shows every binding grouped by scope; j scrolls; esc closes', async () => {
    c = await renderConsole({ width: 100, height: 40, events: [snapshot({ hosts: mixedFleet() })], role: 'viewer' });
    await c.press('?');
    const frame = c.frame();
    expect(frame).toContain('Keys — ? or esc closes');
    for (const title of ['Everywhere', 'Fleet', 'Findings · feed']) expect(frame).toContain(title);
    expect(frame).toMatch(/⊘ d\s+dispatch to this host \(operat/);
    await expect(frame).toMatchFileSnapshot('../../snapshots/help-overlay.txt');
    await c.press('j', 'j');
    expect(c.frame()).toContain('lines 2–33 of 33'); // clamped at the end
    await c.press('esc');
    expect(c.frame()).toContain('Fleet  5 hosts');
  });

  test('on a big terminal every scope of the table has its group, and every binding a line', async () => {
    c = await renderConsole({ width: 200, height: 60, events: [snapshot()] });
    await c.press('?');
    const frame = c.frame();
    for (const scope of new Set(BINDINGS.map((b) => b.scope))) expect(frame).toContain(SCOPE_TITLES[scope]);
    for (const b of BINDINGS) expect(frame).toContain(b.label.slice(0, 20));
  });

  test('at 80×24 it fits in one column and scrolls to the end', async () => {
    c = await renderConsole({ width: 80, height: 24, events: [snapshot()] });
    await c.press('?', 'G');
    expect(c.frame()).toContain('Dispatch');
    expect(c.frame()).toContain('previous field');
    for (const line of c.frame().split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    await expect(c.frame()).toMatchFileSnapshot('../../snapshots/help-overlay-80x24-end.txt');
  });
});

describe('shell', () => {
  test('crumbs show the stack; esc pops back', async () => {
    c = await renderConsole({ width: 100, height: 20, events: [snapshot({ hosts: mixedFleet() })] });
    await c.press('G', 'enter');
    expect(c.frame()).toContain('fleet › host web-02');
    await c.press('esc');
    expect(c.frame().split('\n').at(-4)).toBe('fleet');
  });

  test('a flash clears itself after FLASH_MS', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    c = await renderConsole({ width: 100, height: 20, events: [snapshot()] });
    await c.press(':', 'z', 'enter');
    expect(c.frame()).toContain('! unknown command :z');
    vi.advanceTimersByTime(FLASH_MS - 1);
    await c.settle();
    expect(c.frame()).toContain('unknown command');
    vi.advanceTimersByTime(1);
    await c.settle((f) => !f.includes('unknown command'));
  });

  test('the prompt line shows what is typed', async () => {
    c = await renderConsole({ width: 100, height: 20, events: [snapshot()] });
    await c.press(':', 'r', 'u');
    expect(c.frame()).toContain(':ru   enter run · esc cancel');
  });

  test('fills the terminal it has and follows a resize', async () => {
    c = await renderConsole({ width: 80, height: 24, events: [snapshot({ hosts: mixedFleet() })] });
    expect(c.frame().split('\n')).toHaveLength(23);
    await c.resize(120, 40);
    expect(c.frame().split('\n')).toHaveLength(39);
    expect(c.frame()).toContain('LABELS');
  });

  test('q and :quit call quit; 2/3/4 reach the other views', async () => {
    c = await renderConsole({ width: 100, height: 20, events: [snapshot()] });
    await c.press('2');
    expect(c.frame()).toContain('findings');
    await c.press('3');
    expect(c.store.getState().ui.stack).toEqual([{ view: 'runs' }]);
    await c.press('4', 'ctrl+c');
    expect(c.store.getState().ui.stack).toEqual([{ view: 'dispatch' }]);
    expect(c.calls.map((x) => x.name)).toContain('quit');
  });
});
