import { describe, expect, it } from 'vitest';
import { initialState } from '../../../tui/store/initial-state.js';
import { reduce } from '../../../tui/store/reduce.js';
import {
  canDo, selectCurrentFrame, selectFilter, selectFleetCounts, selectOpenBySeverity, selectOpenForHost, selectRole, selectSelection, whyNot,
} from '../../../tui/store/selectors.js';
import { finding, host, snapshot, stream } from './fixtures.js';

describe('selectors', () => {
  it('counts the fleet by state, memoised on the hosts map', () => {
    const s = reduce(initialState('cp', 0), snapshot({ hosts: [host('a'), host('b', { state: 'stale' }), host('c', { state: 'offline' }), host('d')] }));
    const counts = selectFleetCounts(s);
    expect(counts).toEqual({ online: 2, stale: 1, offline: 1, total: 4 });
    const ui = reduce(s, { type: 'ui/select', index: 2 });
    expect(selectFleetCounts(ui)).toBe(counts);
    const changed = reduce(ui, stream({ type: 'host', cursor: 1, host: host('a', { state: 'offline' }) }));
    expect(selectFleetCounts(changed)).toEqual({ online: 1, stale: 1, offline: 2, total: 4 });
  });

  it('open findings per severity: every severity, most severe first, memoised on the summary', () => {
    const s = reduce(reduce(initialState('cp', 0), snapshot()), stream({ type: 'finding', cursor: 1, finding: finding(1, { severity: 'LOW' }) }));
    const open = selectOpenBySeverity(s);
    expect(open).toEqual([
      { severity: 'CRITICAL', count: 0 }, { severity: 'HIGH', count: 0 }, { severity: 'MEDIUM', count: 0 },
      { severity: 'LOW', count: 1 }, { severity: 'INFO', count: 0 },
    ]);
    expect(selectOpenBySeverity(reduce(s, { type: 'ui/help', open: true }))).toBe(open);
    expect(selectOpenForHost(s, 'web-01')).toBe(0);
  });

  it('the current frame, its selection and filter', () => {
    let s = initialState('cp', 0);
    expect(selectCurrentFrame(s)).toEqual({ view: 'fleet' });
    expect(selectSelection(s)).toBe(0);
    expect(selectFilter(s)).toBe('');
    s = reduce(s, { type: 'ui/push', frame: { view: 'host', key: 'a' } });
    s = reduce(reduce(s, { type: 'ui/select', index: 4 }), { type: 'ui/filter', text: 'ssh' });
    expect(selectCurrentFrame(s)).toEqual({ view: 'host', key: 'a' });
    expect(selectSelection(s)).toBe(4);
    expect(selectFilter(s)).toBe('ssh');
  });

  it.each([
    ['viewer', 'viewer', true], ['viewer', 'operator', false], ['operator', 'operator', true],
    ['operator', 'admin', false], ['admin', 'operator', true], [undefined, 'viewer', false],
  ] as const)('canDo(%s, %s) = %s', (role, needed, allowed) => {
    expect(canDo(role, needed)).toBe(allowed);
    expect(whyNot(role, needed) === null).toBe(allowed);
  });

  it('role comes from whoami', () => {
    expect(selectRole(initialState('cp', 0))).toBeUndefined();
    expect(selectRole(reduce(initialState('cp', 0), snapshot()))).toBe('operator');
    expect(whyNot('viewer', 'operator')).toBe('needs the operator role (you are viewer)');
  });
});
