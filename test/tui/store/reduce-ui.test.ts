import { describe, expect, it } from 'vitest';
import { initialState } from '../../../tui/store/initial-state.js';
import { reduce } from '../../../tui/store/reduce.js';
import type { ConsoleEvent } from '../../../tui/store/events.js';
import type { ConsoleState } from '../../../tui/store/state.js';

const apply = (...events: ConsoleEvent[]): ConsoleState => events.reduce(reduce, initialState('cp', 0));

describe('reduce: view stack', () => {
  it('push and pop, never popping the last frame', () => {
    const s = apply({ type: 'ui/push', frame: { view: 'host', key: 'web-01' } }, { type: 'ui/push', frame: { view: 'findings', filter: 'host:web-01' } });
    expect(s.ui.stack).toEqual([{ view: 'fleet' }, { view: 'host', key: 'web-01' }, { view: 'findings', filter: 'host:web-01' }]);
    const popped = reduce(reduce(s, { type: 'ui/pop' }), { type: 'ui/pop' });
    expect(popped.ui.stack).toEqual([{ view: 'fleet' }]);
    expect(reduce(popped, { type: 'ui/pop' })).toBe(popped);
  });

  it('jump resets the stack to one root view', () => {
    const s = apply({ type: 'ui/push', frame: { view: 'host', key: 'a' } }, { type: 'ui/jump', view: 'runs' });
    expect(s.ui.stack).toEqual([{ view: 'runs' }]);
    expect(reduce(s, { type: 'ui/jump', view: 'runs' })).toBe(s);
  });
});

describe('reduce: selection and filters per frame', () => {
  it('select sets the current frame key only; the same index keeps identity', () => {
    let s = apply({ type: 'ui/select', index: 3 }, { type: 'ui/push', frame: { view: 'host', key: 'web-01' } }, { type: 'ui/select', index: 1 });
    expect(s.ui.selection).toEqual({ fleet: 3, 'host:web-01': 1 });
    expect(reduce(s, { type: 'ui/select', index: 1 })).toBe(s);
    s = reduce(s, { type: 'ui/pop' });
    expect(reduce(s, { type: 'ui/select', index: 0 }).ui.selection).toEqual({ fleet: 0, 'host:web-01': 1 });
  });

  it('filter sets the current frame key; empty text deletes it', () => {
    const s = apply({ type: 'ui/filter', text: 'web' });
    expect(s.ui.filters).toEqual({ fleet: 'web' });
    const cleared = reduce(s, { type: 'ui/filter', text: '' });
    expect(cleared.ui.filters).toEqual({});
    expect(reduce(cleared, { type: 'ui/filter', text: '' })).toBe(cleared);
    expect(reduce(s, { type: 'ui/filter', text: 'web' })).toBe(s);
  });
});

describe('reduce: sort', () => {
  it('a new column sorts ascending, the same column flips, per view', () => {
    let s = apply({ type: 'ui/sort', view: 'fleet', column: 'host' });
    expect(s.ui.sort.fleet).toEqual({ column: 'host', desc: false });
    s = reduce(s, { type: 'ui/sort', view: 'fleet', column: 'host' });
    expect(s.ui.sort.fleet).toEqual({ column: 'host', desc: true });
    s = reduce(s, { type: 'ui/sort', view: 'fleet', column: 'state' });
    expect(s.ui.sort.fleet).toEqual({ column: 'state', desc: false });
    s = reduce(s, { type: 'ui/sort', view: 'findings', column: 'severity' });
    expect(s.ui.sort).toEqual({ fleet: { column: 'state', desc: false }, findings: { column: 'severity', desc: false } });
  });
});

describe('reduce: modes, prompt, confirm, help, flash', () => {
  it('sets each and keeps identity when unchanged', () => {
    const s = apply(
      { type: 'ui/findings-mode', mode: 'groups' },
      { type: 'ui/runs-mode', mode: 'agents' },
      { type: 'ui/prompt', prompt: { kind: 'command', text: 'fl' } },
      { type: 'ui/confirm', confirm: { bindingId: 'cancel', message: 'Cancel?', payload: 1 } },
      { type: 'ui/help', open: true },
    );
    expect(s.ui).toMatchObject({ findingsMode: 'groups', runsMode: 'agents', prompt: { kind: 'command', text: 'fl' }, help: true });
    expect(s.ui.confirm?.bindingId).toBe('cancel');
    expect(reduce(s, { type: 'ui/help', open: true })).toBe(s);
    expect(reduce(s, { type: 'ui/findings-mode', mode: 'groups' })).toBe(s);
    expect(reduce(s, { type: 'ui/prompt', prompt: null }).ui.prompt).toBeNull();
    expect(reduce(s, { type: 'ui/confirm', confirm: null }).ui.confirm).toBeNull();
  });

  it('flash-clear clears only the flash shown at that time', () => {
    const s = apply({ type: 'ui/flash', flash: { text: 'one', level: 'info', at: 1 } }, { type: 'ui/flash', flash: { text: 'two', level: 'error', at: 2 } });
    const stale = reduce(s, { type: 'ui/flash-clear', at: 1 });
    expect(stale).toBe(s);
    expect(reduce(s, { type: 'ui/flash-clear', at: 2 }).ui.flash).toBeNull();
  });

  it('ui events leave the data slices alone', () => {
    const s0 = initialState('cp', 0);
    const s = reduce(s0, { type: 'ui/push', frame: { view: 'findings' } });
    expect(s.findings).toBe(s0.findings);
    expect(s.hosts).toBe(s0.hosts);
    expect(s.summary).toBe(s0.summary);
  });
});
