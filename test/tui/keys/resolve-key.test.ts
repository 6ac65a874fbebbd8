import { describe, expect, test } from 'vitest';
import { BINDINGS } from '../../../tui/keys/bindings.js';
import { disabledReason, isDisabled, resolveKey } from '../../../tui/keys/resolve-key.js';
import { activeScopes } from '../../../tui/keys/scopes.js';
import { initialUiState } from '../../../tui/store/initial-state.js';

describe('resolveKey', () => {
  test('the most specific scope wins', () => {
    expect(resolveKey('a', ['findings.groups', 'findings', 'global'], 'operator')).toMatchObject({ id: 'groups.ack' });
    expect(resolveKey('a', ['findings.feed', 'findings', 'global'], 'operator')).toMatchObject({ id: 'findings.ack' });
    expect(resolveKey('tab', ['findings.feed', 'findings', 'global'], 'operator')).toMatchObject({ id: 'findings.mode' });
    expect(resolveKey('j', ['fleet', 'global'], 'viewer')).toMatchObject({ id: 'global.down' });
    expect(resolveKey('down', ['fleet', 'global'], 'viewer')).toMatchObject({ id: 'global.down' });
  });

  test('keys of other scopes mean nothing', () => {
    expect(resolveKey('a', ['fleet', 'global'], 'admin')).toBeUndefined();
    expect(resolveKey('z', ['fleet', 'global'], 'admin')).toBeUndefined();
  });

  test('a role-gated key is disabled for a weaker role, with why', () => {
    const r = resolveKey('d', ['fleet', 'global'], 'viewer');
    expect(isDisabled(r)).toBe(true);
    expect(r).toMatchObject({ binding: { id: 'fleet.dispatch' }, disabled: 'needs the operator role; you are viewer' });
    expect(isDisabled(resolveKey('d', ['fleet', 'global'], 'operator'))).toBe(false);
    expect(isDisabled(resolveKey('d', ['fleet', 'global'], 'admin'))).toBe(false);
    expect(resolveKey('d', ['fleet', 'global'], null)).toMatchObject({ disabled: 'needs the operator role; your role is not known yet' });
  });

  test('every role-gated binding is disabled for a viewer and no other is', () => {
    for (const b of BINDINGS) expect(disabledReason(b, 'viewer') !== undefined).toBe(b.role === 'operator' || b.role === 'admin');
  });
});

describe('activeScopes', () => {
  test('sub-view, view, then global', () => {
    const ui = initialUiState();
    expect(activeScopes(ui)).toEqual(['fleet', 'global']);
    expect(activeScopes({ ...ui, stack: [{ view: 'findings' }], findingsMode: 'groups' })).toEqual(['findings.groups', 'findings', 'global']);
    expect(activeScopes({ ...ui, stack: [{ view: 'findings' }], findingsMode: 'breakdown' })).toEqual(['findings', 'global']);
    expect(activeScopes({ ...ui, stack: [{ view: 'runs' }, { view: 'run', key: 'orch:1' }], runsMode: 'agents' })).toEqual(['run', 'global']);
    expect(activeScopes({ ...ui, stack: [{ view: 'runs' }], runsMode: 'agents' })).toEqual(['runs.agents', 'runs', 'global']);
  });
});
