import { describe, expect, test, vi } from 'vitest';
import type { ConsoleActions } from '../../../tui/client/actions.js';
import { askConfirm, fillTemplate } from '../../../tui/keys/confirm.js';
import { handleKey } from '../../../tui/keys/handle-key.js';
import type { KeyContext } from '../../../tui/keys/key-context.js';
import type { ViewKeys } from '../../../tui/keys/view-keys.js';
import { createConsoleStore } from '../../../tui/store/console-store.js';
import type { ConsoleEvent } from '../../../tui/store/events.js';
import { initialState } from '../../../tui/store/initial-state.js';
import { reduce } from '../../../tui/store/reduce.js';
import { snapshot } from '../store/fixtures.js';

function setup(view: ViewKeys | null, role: 'viewer' | 'operator' = 'operator') {
  const store = createConsoleStore(initialState('https://cp', 0), reduce);
  store.dispatch(snapshot({ me: { name: 'alice', role } }));
  const actions = { quit: vi.fn(), refresh: vi.fn() } as unknown as ConsoleActions;
  let line = 0;
  const ctx: KeyContext = {
    getState: store.getState,
    dispatch: (e: ConsoleEvent) => store.dispatch(e),
    actions,
    now: () => 1234,
    view: { current: view },
    help: { get: () => line, set: (n) => (line = n) },
  };
  const press = (...names: string[]): void => names.forEach((n) => handleKey(n, ctx));
  return { store, actions, ctx, press, ui: () => store.getState().ui };
}

describe('confirm', () => {
  test('askConfirm fills the binding’s question; y hands binding and payload to the view', () => {
    const onConfirm = vi.fn();
    const { store, press, ui } = setup({ onConfirm });
    store.dispatch({ type: 'ui/push', frame: { view: 'run', key: 'orch:1' } });
    store.dispatch(askConfirm('run.approve', { step: 'restart', run: 'orch-1' }, { id: 7 }));
    expect(ui().confirm?.message).toBe('Approve step restart of orch-1? It will run as shown.');
    press('j', 'q'); // other keys do nothing while asking
    expect(ui().confirm).not.toBeNull();
    press('y');
    expect(ui().confirm).toBeNull();
    expect(onConfirm).toHaveBeenCalledWith('run.approve', { id: 7 }, expect.objectContaining({ ui: expect.anything() }));
  });

  test('n and esc close it without acting', () => {
    const onConfirm = vi.fn();
    const { store, press, ui } = setup({ onConfirm });
    store.dispatch(askConfirm('runs.cancel', { run: 'r1' }, null));
    press('n');
    expect(ui().confirm).toBeNull();
    store.dispatch(askConfirm('runs.cancel', { run: 'r1' }, null));
    press('esc');
    expect(ui().confirm).toBeNull();
    expect(onConfirm).not.toHaveBeenCalled();
  });

  test('placeholders are sanitized and cut', () => {
    expect(fillTemplate('Resolve "{title}" ({count})?', { title: 'x\u001B[2Jy', count: 3 })).toBe('Resolve "x\\x1b[2Jy" (3)?');
    expect(fillTemplate('{missing}', {})).toBe('{missing}');
  });
});

describe('keys to the view', () => {
  test('bound view keys go to onKey; disabled ones flash why and do not', () => {
    const onKey = vi.fn();
    const { press, ui } = setup({ onKey }, 'viewer');
    press('s', 'd', 'enter', 'z');
    expect(onKey.mock.calls.map((c) => [c[0]?.id, c[1]])).toEqual([
      ['fleet.sort', 's'],
      ['global.open', 'enter'],
    ]);
    expect(ui().flash).toEqual({ text: 'd: dispatch to this host — needs the operator role; you are viewer', level: 'warn', at: 1234 });
  });

  test('capture sends every key to the view (q does not quit); ctrl+c still quits', () => {
    const onKey = vi.fn();
    const { press, actions } = setup({ onKey, capture: true });
    press('q', 'j', 'backspace', 'esc', 's');
    expect(onKey.mock.calls.map((c) => [c[0]?.id, c[1]])).toEqual([
      [undefined, 'q'],
      [undefined, 'j'],
      [undefined, 'backspace'],
      [undefined, 'esc'],
      ['fleet.sort', 's'],
    ]);
    expect(actions.quit).not.toHaveBeenCalled();
    press('ctrl+c');
    expect(actions.quit).toHaveBeenCalledOnce();
  });
});

describe('global keys', () => {
  test('j/k/g/G/pages move within the rows the view registered, clamped', () => {
    const { press, ui } = setup({ rows: 25, page: 10 });
    const sel = (): number => ui().selection['fleet'] ?? 0;
    press('k');
    expect(sel()).toBe(0);
    press('j', 'j', 'down');
    expect(sel()).toBe(3);
    press('pagedown', 'pagedown', 'pagedown');
    expect(sel()).toBe(24);
    press('up', 'pageup', 'g');
    expect(sel()).toBe(0);
    press('G', 'j');
    expect(sel()).toBe(24);
  });

  test('no rows registered: movement keys do nothing', () => {
    const { press, ui } = setup({});
    press('j', 'G');
    expect(ui().selection).toEqual({});
  });

  test('/ opens a live filter: typing filters, backspace edits, enter keeps, esc clears', () => {
    const { press, ui } = setup(null);
    press('/', 'w', 'e', 'x', 'backspace', 'b');
    expect(ui().prompt).toEqual({ kind: 'filter', text: 'web' });
    expect(ui().filters['fleet']).toBe('web');
    press('enter');
    expect(ui().prompt).toBeNull();
    expect(ui().filters['fleet']).toBe('web');
    press('/');
    expect(ui().prompt).toEqual({ kind: 'filter', text: 'web' });
    press('esc');
    expect(ui().prompt).toBeNull();
    expect(ui().filters['fleet']).toBeUndefined();
  });

  test(': commands jump, quit, or flash when unknown', () => {
    const { press, ui, actions } = setup(null);
    press(':', 'r', 'u', 'n', 's', 'enter');
    expect(ui().stack).toEqual([{ view: 'runs' }]);
    press(':', 'f', 'i', 'n', 'd', 'i', 'n', 'g', 's', 'enter');
    expect(ui().stack).toEqual([{ view: 'findings' }]);
    press(':', 'n', 'o', 'p', 'e', 'enter');
    expect(ui().flash?.text).toBe('unknown command :nope — try :fleet :findings :runs :dispatch :rollouts :q');
    press(':', 'x', 'esc');
    expect(ui().prompt).toBeNull();
    expect(actions.quit).not.toHaveBeenCalled();
    press(':', 'q', 'enter');
    expect(actions.quit).toHaveBeenCalledOnce();
  });

  test('esc drops the filter first, then pops; 1–4 jump; ? opens help and esc closes it', () => {
    const { store, press, ui, actions } = setup(null);
    store.dispatch({ type: 'ui/push', frame: { view: 'host', key: 'web-01' } });
    store.dispatch({ type: 'ui/filter', text: 'x' });
    press('esc');
    expect(ui().stack).toHaveLength(2);
    press('esc');
    expect(ui().stack).toEqual([{ view: 'fleet' }]);
    press('3');
    expect(ui().stack).toEqual([{ view: 'runs' }]);
    press('4', '2', '1');
    expect(ui().stack).toEqual([{ view: 'fleet' }]);
    press('?');
    expect(ui().help).toBe(true);
    press('j', 'd', 'q'); // q closes help rather than quitting
    expect(ui().help).toBe(false);
    expect(actions.quit).not.toHaveBeenCalled();
    press('ctrl+r');
    expect(actions.refresh).toHaveBeenCalledOnce();
    press('q');
    expect(actions.quit).toHaveBeenCalledOnce();
  });
});
