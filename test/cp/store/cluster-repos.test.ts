import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/cp/store/store.js';
import { storeKinds, useTestStore, type TestStore } from '../../support/store-kinds.js';

const host = (hostname: string) => ({
  hostname, cert_serial: `s-${hostname}`, credential_id: `c-${hostname}`, credential_hash: 'h', os: 'linux', arch: 'x64', version: '1', labels: {}, registered_at: 1000,
});
const replica = (id: string, heardAt: number) => ({ id, url: `https://${id}:8443`, version: '1.2.3', started_at: 1000, heard_at: heardAt, tunnels: 3, load: 0.25 });

describe.each(storeKinds)('schema v7 repositories (%s)', (kind) => {
  let t: TestStore;
  let store: Store;
  useTestStore(kind, (opened) => {
    t = opened;
    store = opened.store;
  });

  it('reports its kind', () => {
    expect(store.kind).toBe(kind);
    expect(store.db.dialect).toBe(kind);
  });

  it('replicas: a heartbeat inserts then refreshes a row; remove deletes it', () => {
    store.replicas.heartbeat(replica('b', 2000));
    store.replicas.heartbeat(replica('a', 2000));
    store.replicas.heartbeat({ ...replica('b', 3000), tunnels: 7, load: 1.5 });
    expect(store.replicas.list()).toEqual([replica('a', 2000), { ...replica('b', 3000), tunnels: 7, load: 1.5 }]);
    store.replicas.remove('a');
    store.replicas.remove('nobody');
    expect(store.replicas.list().map((r) => r.id)).toEqual(['b']);
  });

  it('hosts: records which replica holds a tunnel; a conditional clear leaves another replica\'s claim', () => {
    store.hosts.insert(host('web-01'));
    store.hosts.insert(host('web-02'));
    store.hosts.insert(host('gone'));
    expect(store.hosts.withReplica()).toEqual([]);
    store.hosts.setReplica('web-01', 'r1');
    store.hosts.setReplica('web-02', 'r1');
    store.hosts.setReplica('gone', 'r1');
    store.hosts.revoke('gone', 2000);
    expect(store.hosts.get('web-01')?.replica_id).toBe('r1');
    // web-02 moved to r2; r1's late "closed" must not clear it, its own clear does.
    store.hosts.setReplica('web-02', 'r2');
    store.hosts.setReplica('web-02', null, 'r1');
    store.hosts.setReplica('web-01', null, 'r1');
    expect(store.hosts.withReplica()).toEqual([{ hostname: 'web-02', replica_id: 'r2' }]);
  });

  it('hosts: heartbeats flushed by several replicas keep the latest hearing on a cluster', () => {
    store.hosts.insert(host('web-01'));
    const beat = (at: number, seq: number) => ({ hostname: 'web-01', lastHeartbeat: at, seq, running: seq, spoolDepth: 0 });
    store.hosts.flushHeartbeats([beat(2000, 2)]);
    store.hosts.flushHeartbeats([beat(1500, 1)]); // a replica that heard it earlier flushes late (a cluster: Postgres)
    // One CP (SQLite) keeps what it heard last, as before: its clock stepping back must not freeze the column.
    expect(store.hosts.get('web-01')).toMatchObject(kind === 'postgres' ? { last_heartbeat: 2000, heartbeat_seq: 2, running: 2 } : { last_heartbeat: 1500, heartbeat_seq: 1 });
    store.hosts.flushHeartbeats([beat(3000, 3)]);
    expect(store.hosts.get('web-01')).toMatchObject({ last_heartbeat: 3000, heartbeat_seq: 3 });
  });

  it('hosts: a flush of many hosts at once writes each, and a batch of tunnel changes takes and lets go as one replica', () => {
    const names = Array.from({ length: 1200 }, (_, i) => `h-${String(i).padStart(4, '0')}`);
    for (const n of names) store.hosts.insert(host(n));
    store.hosts.flushHeartbeats(names.map((hostname, i) => ({ hostname, lastHeartbeat: 10_000 + i, seq: i, running: 1, spoolDepth: i % 7 })));
    expect(store.hosts.get('h-0999')).toMatchObject({ last_heartbeat: 10_999, heartbeat_seq: 999, running: 1, spool_depth: 999 % 7 });
    expect(store.hosts.heardSince(11_100).map((r) => r.hostname)).toHaveLength(99);

    store.hosts.setReplicas('r1', names.map((hostname) => ({ hostname, up: true })));
    expect(store.hosts.withReplica()).toHaveLength(1200);
    store.hosts.setReplica('h-0001', 'r2'); // moved to r2 before r1 heard its old tunnel close
    store.hosts.setReplicas('r1', [{ hostname: 'h-0000', up: false }, { hostname: 'h-0001', up: false }]);
    const held = new Map(store.hosts.withReplica().map((r) => [r.hostname, r.replica_id]));
    expect(held.get('h-0000')).toBeUndefined();
    expect(held.get('h-0001')).toBe('r2');
    expect(held.size).toBe(1199);
  });

  it('runs and feed: a fan-out\'s many runs and entries in one go, cursors in the order given', () => {
    const runs = Array.from({ length: 7 }, (_, i) => ({
      run_id: `r_${String(i).padStart(26, '0')}`, host: `h${i}`, agent: 'edr', prompt: '', inputs: { i }, status: 'dispatched' as const,
      created_at: 1000, timeout_ms: 60_000, created_by: 'me', ...(i === 3 && { ended_at: 1000, error: 'unreachable' }), route: 'tunnel' as const,
    }));
    store.transaction(() => store.runs.insertMany(runs));
    expect(store.runs.get(runs[3]?.run_id as string)).toMatchObject({ host: 'h3', error: 'unreachable', ended_at: 1000 });
    expect(store.runs.list({ limit: 100 })).toHaveLength(7);
    const before = store.feed.head();
    const cursors = store.transaction(() => store.feed.appendMany(2000, 'run', runs.map((r) => ({ n: r.host }))));
    expect(cursors).toEqual(cursors.slice().sort((a, b) => a - b));
    expect(cursors[0]).toBeGreaterThan(before);
    expect(store.feed.after(before, 100).map((e) => [e.id, e.payload])).toEqual(cursors.map((c, i) => [c, { n: `h${i}` }]));
  });

  it('meta: setIfAbsent keeps the first value and returns it', () => {
    expect(store.meta.get('k')).toBeUndefined();
    expect(store.meta.setIfAbsent('k', 'first')).toBe('first');
    expect(store.meta.setIfAbsent('k', 'second')).toBe('first');
    store.meta.set('k', 'third');
    expect(store.meta.get('k')).toBe('third');
  });

  it('leases: one holder at a time, renewed by its holder, taken over once expired with a higher epoch, released', () => {
    const a = store.leases.acquire('leader', 'a', 60_000);
    expect(a).toMatchObject({ held: true, holder: 'a', epoch: 1 });
    expect(store.leases.acquire('leader', 'b', 60_000)).toMatchObject({ held: false, holder: 'a', epoch: 1, expiresAt: a.expiresAt });
    const renewed = store.leases.acquire('leader', 'a', 60_000);
    expect(renewed).toMatchObject({ held: true, holder: 'a', epoch: 1 });
    expect(renewed.expiresAt).toBeGreaterThanOrEqual(a.expiresAt);
    // Another lease name is independent.
    expect(store.leases.acquire('other', 'b', 60_000)).toMatchObject({ held: true, holder: 'b', epoch: 1 });

    store.leases.release('leader', 'b'); // not b's: nothing happens
    expect(store.leases.acquire('leader', 'b', 60_000).held).toBe(false);
    store.leases.release('leader', 'a');
    expect(store.leases.acquire('leader', 'b', 60_000)).toMatchObject({ held: true, holder: 'b', epoch: 2 });

    // A lease left to expire (a negative TTL puts its end in the past) is taken by the next caller.
    expect(store.leases.acquire('leader', 'b', -1)).toMatchObject({ held: true, holder: 'b', epoch: 2 });
    expect(store.leases.acquire('leader', 'c', 60_000)).toMatchObject({ held: true, holder: 'c', epoch: 3 });
  });

  it('leases: the expiry is on the database\'s clock (Postgres) or the CP\'s (SQLite)', () => {
    const before = Date.now();
    const { expiresAt } = store.leases.acquire('leader', 'a', 10_000);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 10_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 10_000 + 1000);
  });

  it('feed: the head is the last cursor handed out, 0 before any, kept after pruning and reopening', () => {
    expect(store.feed.head()).toBe(0);
    expect(store.feed.oldest()).toBeUndefined();
    const first = store.transaction(() => store.feed.append(1000, 'host', { n: 1 }));
    const second = store.transaction(() => store.feed.append(2000, 'host', { n: 2 }));
    expect(second).toBeGreaterThan(first);
    expect(store.feed.head()).toBe(second);
    expect(store.feed.prune(3000)).toBe(2);
    expect(store.feed.oldest()).toBeUndefined();
    expect(store.feed.head()).toBe(second);
    store = t.reopen();
    expect(store.feed.head()).toBe(second);
    expect(store.transaction(() => store.feed.append(4000, 'host', { n: 3 }))).toBeGreaterThan(second);
  });
});
