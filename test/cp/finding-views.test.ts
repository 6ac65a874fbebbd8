import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/cp/store/store.js';
import { SCHEMA_V1, SCHEMA_V2 } from '../../src/cp/store/schema.js';
import type { EventRecord } from '../../src/protocol/tunnel.js';
import { asTicks, findingRecord, runId } from './cp-harness.js';
import { storeKinds, useTestStore } from '../support/store-kinds.js';

const NOW = 1_800_000_000_000;
let seq = 0;
/** One finding record of a fresh run; `title` + `severity` + `resource` decide its group. */
const f = (fields: Record<string, unknown>): EventRecord => findingRecord(runId(), ++seq, { resource: 'binary:/usr/bin/nc', ...fields });

/** The open count of every group as kept, and recounted from the findings (what `finding_groups.open` must always equal). */
const keptOpen = (store: Store): Record<string, number> =>
  Object.fromEntries((store.db.prepare('SELECT fingerprint AS fp, open AS n FROM finding_groups').all() as { fp: string; n: number }[]).map((r) => [r.fp, r.n]));

describe.each(storeKinds)('finding views (%s)', (kind) => {
  let store: Store;
  useTestStore(kind, (opened) => (store = opened.store));
  const ingest = (host: string, records: EventRecord[]) => store.ingest.ingest(host, asTicks(records), NOW);
  const ids = (host: string, records: EventRecord[]): number[] => ingest(host, records).findings.map((x) => x.finding.id);
  const recountedOpen = (): Record<string, number> =>
    Object.fromEntries(
      (store.db.prepare("SELECT g.fingerprint AS fp, (SELECT count(*) FROM findings x WHERE x.fingerprint = g.fingerprint AND x.status = 'open') AS n FROM finding_groups g").all() as { fp: string; n: number }[])
        .map((r) => [r.fp, r.n]),
    );

  describe('finding groups view', () => {
    it('lists groups most recently seen first, with counts, open counts, hosts and up to 5 sample hosts', () => {
      ingest('web-01', [f({ title: 'Reverse shell', severity: 'HIGH', ts: 1000 })]);
      for (let i = 2; i <= 7; i++) ingest(`web-0${i}`, [f({ title: 'Reverse shell', severity: 'HIGH', ts: 1000 + i })]);
      ingest('db-01', [f({ title: 'Old cert', severity: 'LOW', category: 'cert', resource: 'cert:/etc/x.pem', ts: 5000 }), f({ title: 'Old cert', severity: 'LOW', category: 'cert', resource: 'cert:/etc/x.pem', ts: 4000 })]);

      const groups = store.findingViews.groups({ limit: 100 });
      expect(groups.map((g) => [g.title, g.count, g.open, g.hosts])).toEqual([['Old cert', 2, 2, 1], ['Reverse shell', 7, 7, 7]]);
      const shell = groups[1];
      expect(shell).toMatchObject({ severity: 'HIGH', category: 'process', agent: 'edr', first_seen: 1000, last_seen: 1007 });
      expect(shell?.sample_hosts).toHaveLength(5);
      expect(shell?.sample_hosts[0]).toBe('web-01');
      expect(new Set(shell?.sample_hosts).size).toBe(5);
      expect(groups[0]).toMatchObject({ sample_hosts: ['db-01'], first_seen: 4000, last_seen: 5000 });
      expect(store.findingViews.groups({ limit: 1 }).map((g) => g.title)).toEqual(['Old cert']);
    });

    it('filters by severity and above, agent, category and status', () => {
      const [crit] = ids('h1', [f({ title: 'Rootkit', severity: 'CRITICAL', ts: 1 })]);
      ids('h1', [f({ title: 'Disk', severity: 'MEDIUM', category: 'config', resource: 'disk:/', ts: 2 })]);
      ingest('h1', [{ ...f({ title: 'Cert', severity: 'LOW', category: 'cert', resource: 'cert:/a', ts: 3 }), event: { ts: 3, agent: 'certwatch', type: 'finding', severity: 'LOW', title: 'Cert', category: 'cert', resource: 'cert:/a' } }]);
      const titles = (q: Parameters<Store['findingViews']['groups']>[0]) => store.findingViews.groups(q).map((g) => g.title);

      expect(titles({ severity: 'MEDIUM', limit: 10 })).toEqual(['Disk', 'Rootkit']);
      expect(titles({ agent: 'certwatch', limit: 10 })).toEqual(['Cert']);
      expect(titles({ category: 'config', limit: 10 })).toEqual(['Disk']);
      expect(titles({ status: 'open', limit: 10 })).toEqual(['Cert', 'Disk', 'Rootkit']);
      expect(titles({ status: 'resolved', limit: 10 })).toEqual([]);

      store.transaction(() => store.triage.apply(crit as number, 'resolved', 'finding'));
      expect(titles({ status: 'open', limit: 10 })).toEqual(['Cert', 'Disk']);
      expect(titles({ status: 'resolved', limit: 10 })).toEqual(['Rootkit']);
      expect(titles({ status: 'acknowledged', limit: 10 })).toEqual([]);
    });
  });

  describe('triage writes', () => {
    it('keeps each group\'s open count equal to its open findings through finding and group triage', () => {
      const shell = ids('web-01', [f({ title: 'Shell', ts: 1 }), f({ title: 'Shell', ts: 2 }), f({ title: 'Other', resource: 'x:/y', ts: 3 })]);
      ids('web-02', [f({ title: 'Shell', ts: 4 })]);
      const [a, b] = shell as [number, number];
      const fp = store.findings.get(a)?.finding.fingerprint as string;

      expect(store.transaction(() => store.triage.apply(a, 'acknowledged', 'finding'))).toEqual({ fingerprint: fp, updated: 1 });
      expect(keptOpen(store)[fp]).toBe(2);
      // The same status again changes nothing; acknowledged → resolved leaves open alone.
      expect(store.transaction(() => store.triage.apply(a, 'acknowledged', 'finding'))?.updated).toBe(0);
      store.transaction(() => store.triage.apply(a, 'resolved', 'finding'));
      expect(keptOpen(store)).toEqual(recountedOpen());

      // Group scope: every finding of the fingerprint, on every host; `updated` counts only real changes.
      expect(store.transaction(() => store.triage.apply(b, 'false_positive', 'group'))).toEqual({ fingerprint: fp, updated: 3 });
      expect(keptOpen(store)[fp]).toBe(0);
      expect(keptOpen(store)).toEqual(recountedOpen());
      expect(store.findings.query({ limit: 10 }).map((x) => x.status)).toEqual(['false_positive', 'false_positive', 'open', 'false_positive']);

      // Reopen one, then the group; a new finding of the group arrives open.
      store.transaction(() => store.triage.apply(b, 'open', 'finding'));
      expect(keptOpen(store)[fp]).toBe(1);
      expect(store.transaction(() => store.triage.apply(a, 'open', 'group'))?.updated).toBe(2);
      ids('web-03', [f({ title: 'Shell', ts: 9 })]);
      expect(keptOpen(store)[fp]).toBe(4);
      expect(keptOpen(store)).toEqual(recountedOpen());
      expect(store.transaction(() => store.triage.apply(999_999, 'resolved', 'finding'))).toBeUndefined();
    });
  });

  describe('findings summary', () => {
    it('counts by status and open findings by severity and, when asked, by host', () => {
      const [x] = ids('web-01', [f({ title: 'A', severity: 'HIGH' }), f({ title: 'B', severity: 'LOW', resource: 'b:/' })]);
      ids('web-02', [f({ title: 'A', severity: 'HIGH' })]);
      store.transaction(() => store.triage.apply(x as number, 'resolved', 'finding'));

      const s = store.findings.summary({});
      expect(s.by_status).toEqual({ open: 2, acknowledged: 0, resolved: 1, false_positive: 0 });
      expect(s.open_by_severity).toEqual({ CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 1, INFO: 0 });
      expect(s.open_by_host).toBeUndefined();
      expect(store.findings.summary({}, { openByHost: true }).open_by_host).toEqual({ 'web-01': 1, 'web-02': 1 });
      expect(store.findings.summary({ severity: 'HIGH' }, { openByHost: true })).toMatchObject({ total: 2, open_by_host: { 'web-02': 1 } });
    });
  });

  describe('indicator clusters', () => {
    it('lists indicators of at least two findings, most findings first, with hosts and the highest severity', () => {
      ingest('web-01', [
        f({ title: 'Beacon', severity: 'LOW', evidence: ['connect 45.33.32.156:4444'], ts: 10 }),
        f({ title: 'Beacon again', severity: 'CRITICAL', evidence: ['connect 45.33.32.156:4444, evil-c2.xyz'], ts: 20 }),
      ]);
      ingest('web-02', [f({ title: 'Beacon', severity: 'MEDIUM', evidence: ['45.33.32.156 and evil-c2.xyz'], ts: 30 })]);
      ingest('web-03', [f({ title: 'Lonely', evidence: ['10.9.8.7'], ts: 40 })]);

      const clusters = store.findingViews.clusters({ limit: 10 });
      expect(clusters.map((c) => [c.indicator, c.kind, c.findings, c.hosts, c.max_severity, c.last_seen])).toEqual([
        ['ip:45.33.32.156', 'ip', 3, 2, 'CRITICAL', 30],
        ['domain:evil-c2.xyz', 'domain', 2, 2, 'CRITICAL', 30],
      ]);
      expect([...(clusters[0]?.sample_hosts ?? [])].sort()).toEqual(['web-01', 'web-02']);
      // Filters apply to the findings counted: at MEDIUM and above the LOW finding is left out (a tie: newest, then by name).
      expect(store.findingViews.clusters({ severity: 'MEDIUM', limit: 10 }).map((c) => [c.indicator, c.findings, c.max_severity])).toEqual([
        ['domain:evil-c2.xyz', 2, 'CRITICAL'],
        ['ip:45.33.32.156', 2, 'CRITICAL'],
      ]);
      expect(store.findingViews.clusters({ severity: 'HIGH', limit: 10 })).toEqual([]);
      expect(store.findingViews.clusters({ category: 'network', limit: 10 })).toEqual([]);
      expect(store.findingViews.clusters({ limit: 1 })).toHaveLength(1);
    });
  });
});

// SQLite only: a database written by an older version is migrated on open (Postgres is created at the latest version).
describe('schema version 3', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'okesu-views-test-'));
    store = openStore(join(dir, 'cp.db'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('backfills the open count of groups stored before it', () => {
    store.close();
    rmSync(join(dir, 'cp.db'));
    const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
    const old = new Sqlite(join(dir, 'cp.db'));
    old.exec(SCHEMA_V1);
    old.exec(SCHEMA_V2);
    old.pragma('user_version = 2');
    const finding = old.prepare("INSERT INTO findings (event_id, fingerprint, host, agent, ts, received_at, severity_rank, category, status) VALUES (1, ?, 'h', 'edr', 1, 1, 3, 'process', ?)");
    for (const [fp, status] of [['g1', 'open'], ['g1', 'resolved'], ['g1', 'open'], ['g2', 'acknowledged']]) finding.run(fp, status);
    const group = old.prepare("INSERT INTO finding_groups (fingerprint, severity, title, category, agent, count, first_seen, last_seen, last_finding_id, first_host) VALUES (?, 'HIGH', 't', 'process', 'edr', ?, 1, 1, 1, 'h')");
    group.run('g1', 3);
    group.run('g2', 1);
    old.close();

    store = openStore(join(dir, 'cp.db'));
    expect((store.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBeGreaterThanOrEqual(3);
    expect(keptOpen(store)).toEqual({ g1: 2, g2: 0 });
  });
});
