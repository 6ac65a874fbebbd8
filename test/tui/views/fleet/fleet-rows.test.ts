import { describe, expect, test } from 'vitest';
import { createPalette } from '../../../../tui/theme.js';
import { fleetColumns, fleetHosts, fleetRows, fleetSort, matchesFilter, nextSortColumn, FLEET_SORT_COLUMNS } from '../../../../tui/views/fleet/fleet-rows.js';
import { hostAt, mixedFleet, MIXED_OPEN } from '../../support/fleet-data.js';
import { FRAME_NOW } from '../../support/frame.js';

const DAY = 86_400_000;

const byName = new Map(mixedFleet().map((h) => [h.hostname, h]));
const names = (hs: { hostname: string }[]): string[] => hs.map((h) => h.hostname);

describe('matchesFilter', () => {
  const h = hostAt('web-01.prod', 0, { labels: { role: 'web', env: 'prod' }, state: 'stale' });
  test.each([
    ['', true],
    ['WEB-01', true],
    ['env=prod', true],
    ['role=web env=prod', true],
    ['stale', true],
    ['role=db', false],
    ['web online', false],
  ])('%j → %s', (filter, want) => expect(matchesFilter(h, filter)).toBe(want));
});

describe('fleetHosts', () => {
  test('default: hostname ascending', () => {
    expect(names(fleetHosts(byName, '', fleetSort(undefined), MIXED_OPEN))).toEqual(['batch-01', 'cache-01', 'db-01', 'web-01', 'web-02']);
  });

  test('by state then hostname; reversed', () => {
    expect(names(fleetHosts(byName, '', { column: 'state', desc: false }, undefined))).toEqual(['batch-01', 'web-01', 'web-02', 'db-01', 'cache-01']);
    expect(names(fleetHosts(byName, '', { column: 'state', desc: true }, undefined))[0]).toBe('cache-01');
  });

  test('by open findings, and by version numerically', () => {
    expect(names(fleetHosts(byName, '', { column: 'findings', desc: true }, MIXED_OPEN)).slice(0, 2)).toEqual(['db-01', 'web-01']);
    const v = new Map([hostAt('a', 0, { version: '0.10.0' }), hostAt('b', 0, { version: '0.9.0' })].map((h) => [h.hostname, h]));
    expect(names(fleetHosts(v, '', { column: 'version', desc: false }, undefined))).toEqual(['b', 'a']);
  });

  test('never-seen hosts sort last by heartbeat', () => {
    const m = new Map([hostAt('a', 5_000), hostAt('b', 0, { last_heartbeat: null }), hostAt('c', 1_000)].map((h) => [h.hostname, h]));
    expect(names(fleetHosts(m, '', { column: 'heartbeat', desc: false }, undefined))).toEqual(['c', 'a', 'b']);
  });

  test('sort columns cycle; unknown sorts fall back to hostname', () => {
    expect(nextSortColumn('host')).toBe('state');
    expect(nextSortColumn(FLEET_SORT_COLUMNS.at(-1)!)).toBe('host');
    expect(fleetSort({ column: 'nope', desc: true })).toEqual({ column: 'host', desc: false });
  });
});

describe('fleetRows', () => {
  const p = createPalette({});
  test('cells, colours paired with glyph+word, offline dimmed, `-` without per-host counts', () => {
    const [web, db, cache] = fleetRows([byName.get('web-01')!, byName.get('db-01')!, byName.get('cache-01')!], MIXED_OPEN, FRAME_NOW, false, p);
    expect(web).toMatchObject({ key: 'web-01', cells: ['● online', 'web-01', 'wss', '0.1.0', '4s', '1', '3'], dim: false });
    expect(web!.colors![0]).toBe(p.ok);
    expect(web!.colors![6]).toBe(p.warn);
    expect(db!.cells.slice(0, 1)).toEqual(['◐ stale']);
    expect(db!.colors![4]).toBe(p.stale);
    expect(cache).toMatchObject({ cells: ['○ offline', 'cache-01', 'https', '0.1.0', '2h', '0', '0'], dim: true });
    expect(fleetRows([byName.get('web-01')!], undefined, FRAME_NOW, true, p)[0]!.cells.slice(6)).toEqual(['-', 'role=web env=prod']);
  });

  test.each([
    ['a fresh identity', FRAME_NOW - 10 * DAY, FRAME_NOW + 355 * DAY, 'web-01', undefined],
    ['an identity whose renewal is overdue', FRAME_NOW - 300 * DAY, FRAME_NOW + 65 * DAY, 'web-01 ⚠ cert', 'warn'],
    ['an expired identity', FRAME_NOW - 366 * DAY, FRAME_NOW - 1000, 'web-01 ✗ cert', 'error'],
    ['an identity the CP does not report', null, null, 'web-01', undefined],
  ] as const)('marks %s in the hostname cell', (_name, issued, expires, text, color) => {
    const [row] = fleetRows([hostAt('web-01', 4000, { cert_issued_at: issued, cert_expires_at: expires })], undefined, FRAME_NOW, false, p);
    expect(row!.cells[1]).toBe(text);
    expect(row!.colors![1]).toBe(color === undefined ? undefined : p[color]);
  });

  test('a labels column only when wide', () => {
    expect(fleetColumns(fleetSort(undefined), 100).map((c) => c.id)).not.toContain('labels');
    expect(fleetColumns(fleetSort(undefined), 120).map((c) => c.id)).toContain('labels');
    expect(fleetColumns({ column: 'runs', desc: true }, 100).find((c) => c.id === 'runs')?.title).toBe('RUNS↓');
  });
});
