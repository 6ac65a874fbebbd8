import { describe, expect, it } from 'vitest';
import { createRing } from '../../../../tui/store/ring.js';
import { createPalette } from '../../../../tui/theme.js';
import { parseFilter } from '../../../../tui/views/findings/finding-filter.js';
import { clusterRow, feedFindings, feedRow, feedRows, filterClusters, filterGroups, groupRow } from '../../../../tui/views/findings/findings-rows.js';
import { barCells, bar, breakdownSections } from '../../../../tui/views/findings/breakdown-rows.js';
import { burst, cluster, finding, group, NOW, summary } from './fixtures.js';

const colours = createPalette({});
const plain = createPalette({ NO_COLOR: '1' });

describe('feed rows', () => {
  it('lists the feed newest first, filtered by every term', () => {
    const ring = createRing(100, burst(20));
    expect(feedFindings(ring, []).map((f) => f.id)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
    const onWeb = feedFindings(ring, parseFilter('host:web-01'));
    expect(onWeb.map((f) => f.id)).toEqual([16, 11, 6, 1]);
    expect(feedFindings(ring, parseFilter('host:web-01', 'sev:high')).every((f) => ['HIGH', 'CRITICAL'].includes(f.severity))).toBe(true);
  });

  it('maps a finding to time, severity glyph + word, host, agent, title and status, coloured by meaning', () => {
    const f = finding(7, { ts: Date.UTC(2026, 0, 15, 11, 58, 3), severity: 'CRITICAL', status: 'acknowledged' });
    const row = feedRow(f, NOW, colours);
    expect(row.key).toBe('7');
    expect(row.cells).toEqual(['11:58:03', '◆ CRIT', 'web-01', 'host-check', 'finding 7', '◐ ack']);
    expect(row.colors?.[1]).toBe('magenta');
    expect(row.dim).toBe(false);
    expect(feedRow({ ...f, status: 'resolved' }, NOW, colours).dim).toBe(true);
    // Without colour the glyph and word still say it all.
    expect(feedRow(f, NOW, plain).colors?.every((c) => c === undefined)).toBe(true);
  });

  it('shows the date for a finding from another day', () => {
    expect(feedRow(finding(1, { ts: NOW - 2 * 86_400_000 }), NOW, colours).cells[0]).toBe('2026-01-13 12:00:00');
  });
});

describe('group and cluster rows', () => {
  it('maps a group to severity, ×N, title, agent, hosts, open and last seen', () => {
    const row = groupRow(group(2), NOW, colours);
    expect(row.cells).toEqual(['▲ HIGH', '×12', 'Disk 93% full on /var', 'sre-health', '4', '5', '3m']);
    expect(row.dim).toBe(false);
    expect(groupRow(group(2, { open: 0 }), NOW, colours).dim).toBe(true);
  });

  it('filters groups and clusters, keeping the same array when there is no filter', () => {
    const groups = [group(0), group(1, { sample_hosts: ['db-01'] })];
    expect(filterGroups(groups, [])).toBe(groups);
    expect(filterGroups(groups, parseFilter('host:db-01')).map((g) => g.fingerprint)).toEqual(['fp-1']);
    const clusters = [cluster('203.0.113.7'), cluster('evil.example', { kind: 'domain' })];
    expect(filterClusters(clusters, parseFilter('domain')).map((c) => c.indicator)).toEqual(['evil.example']);
  });

  it('maps a cluster with its sample of hosts and how many more', () => {
    const row = clusterRow(cluster('203.0.113.7', { hosts: 9 }), NOW, colours);
    expect(row.cells).toEqual(['203.0.113.7', 'ip', '12', '9', '◆ CRIT', 'web-01,web-02,db-01,cache-01 +5', '2m']);
  });
});

describe('breakdown', () => {
  it('scales bars to the section maximum, at least one cell for any count', () => {
    expect(barCells(0, 10, 10)).toBe(0);
    expect(barCells(1, 1000, 10)).toBe(1);
    expect(barCells(10, 10, 10)).toBe(10);
    expect(barCells(5, 10, 10)).toBe(5);
    expect(bar(3, 5)).toBe('███░░');
  });

  it('has every severity with open counts, every status, and categories / agents most first, cut to maxLines', () => {
    const [sev, status, cat, agent] = breakdownSections(summary(), 10, 3, colours);
    expect(sev!.title).toBe('Severity (240 findings, 31 groups)');
    expect(sev!.lines.map((l) => [l.label, l.count, l.note, l.filled])).toEqual([
      ['◆ CRIT', 4, '3 open', 1],
      ['▲ HIGH', 36, '20 open', 5],
      ['■ MED', 80, '60 open', 10],
      ['□ LOW', 70, '40 open', 9],
      ['· INFO', 50, '27 open', 6],
    ]);
    expect(status!.lines.map((l) => l.label)).toEqual(['○ open', '◐ ack', '✓ resolved', '⊘ false pos']);
    expect(cat!.lines.map((l) => l.label)).toEqual(['process', 'network', 'file']);
    expect(cat!.more).toBe(2);
    expect(agent!.lines.map((l) => [l.label, l.count])).toEqual([['host-check', 120], ['ioc-sweep', 80], ['sre-health', 40]]);
  });
});

describe('feedRows', () => {
  it('reuses the row of a finding seen before and maps a triaged (new) finding again', () => {
    const list = burst(3);
    const first = feedRows(list, NOW);
    const again = feedRows([finding(99), ...list], NOW);
    expect(again.slice(1)).toEqual(first);
    expect(again[1]).toBe(first[0]);
    const triaged = { ...list[0]!, status: 'resolved' as const };
    expect(feedRows([triaged], NOW)[0]!.cells[5]).toBe('✓ resolved');
  });
});
