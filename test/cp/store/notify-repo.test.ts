import { describe, expect, it } from 'vitest';
import { storeKinds, useTestStore, type TestStore } from '../../support/store-kinds.js';
import type { OutboxRow } from '../../../src/cp/store/notify.js';
import { testPostgresUrl } from '../../support/postgres.js';
import { openPostgresDb } from '../../../src/cp/store/sql/postgres-db.js';
import { POSTGRES_SCHEMA } from '../../../src/cp/store/postgres-schema.js';
import { openStore } from '../../../src/cp/store/store.js';

const channel = (name: string) => ({ name, kind: 'webhook' as const, config: '{"url":"http://127.0.0.1:1/"}', sealed: 'v1.x.y', rules: '{}', created_at: 1, created_by: 'admin' });
const outbox = (id: string, over: Partial<OutboxRow> = {}): OutboxRow =>
  ({ id, channel: 'ops', kind: 'finding', state: 'pending', findings: '[]', total: 1, created_at: 10, due_at: 10, attempts: 0, updated_at: 10, ...over });

describe.each(storeKinds)('notify repository (%s)', (kind) => {
  let t: TestStore;
  useTestStore(kind, (opened) => {
    t = opened;
  });

  it('stores channels once by name and removes one with its outbox, log and notified groups', () => {
    const n = t.store.notify;
    expect(n.addChannel(channel('ops'))).toBe(true);
    expect(n.addChannel(channel('ops'))).toBe(false);
    n.addChannel(channel('dev'));
    expect(n.listChannels().map((c) => c.name)).toEqual(['dev', 'ops']);
    expect(n.markSeen('ops', 'fp1', 100)).toBe(true);
    expect(n.markSeen('ops', 'fp1', 101)).toBe(false);
    n.enqueue(outbox('dl_1'));
    n.settle('dl_1', { state: 'delivered', attempts: 1, due_at: 10, updated_at: 11 }, { delivery_id: 'dl_1', channel: 'ops', attempt: 1, at: 11, outcome: 'delivered', detail: 'HTTP 200' });
    expect(n.removeChannel('ops')).toBe(true);
    expect(n.removeChannel('ops')).toBe(false);
    expect(n.get('dl_1')).toBeUndefined();
    expect(n.attempts('dl_1')).toEqual([]);
    n.addChannel(channel('ops'));
    expect(n.markSeen('ops', 'fp1', 200)).toBe(true);
  });

  it('counts new groups in a window, finds due rows and the open digest, settles attempts and counts states', () => {
    const n = t.store.notify;
    n.addChannel(channel('ops'));
    n.markSeen('ops', 'a', 100);
    n.markSeen('ops', 'b', 200);
    expect(n.seenSince('ops', 150)).toBe(1);
    n.enqueue(outbox('dl_a', { due_at: 50 }));
    n.enqueue(outbox('dl_b', { kind: 'digest', state: 'held', due_at: 500 }));
    expect(n.due(100, 10).map((r) => r.id)).toEqual(['dl_a']);
    expect(n.openDigest('ops', 100)?.id).toBe('dl_b');
    expect(n.openDigest('ops', 500)).toBeUndefined();
    n.setDigest('dl_b', '[{"id":1}]', 4, 120);
    expect(n.get('dl_b')).toMatchObject({ findings: '[{"id":1}]', total: 4 });
    n.settle('dl_a', { state: 'pending', attempts: 1, due_at: 300, updated_at: 101 }, { delivery_id: 'dl_a', channel: 'ops', attempt: 1, at: 101, outcome: 'retry', detail: 'HTTP 503' });
    n.settle('dl_a', { state: 'failed', attempts: 2, due_at: 300, updated_at: 301 }, { delivery_id: 'dl_a', channel: 'ops', attempt: 2, at: 301, outcome: 'failed', detail: 'HTTP 400' });
    expect(n.attempts('dl_a').map((a) => `${a.attempt}:${a.outcome}:${a.detail}`)).toEqual(['1:retry:HTTP 503', '2:failed:HTTP 400']);
    expect(n.counts()).toEqual({ pending: 1, delivered: 0, failed: 1 });
    expect(n.counts('nope')).toEqual({ pending: 0, delivered: 0, failed: 0 });
    n.reschedule('dl_b', 900, 130);
    expect(n.due(600, 10)).toEqual([]);
    expect(n.recent({ channel: 'ops', limit: 1 })).toHaveLength(1);
    // Final rows older than the cut are forgotten with their log; held and pending ones never are.
    expect(n.prune(10_000)).toBe(1);
    expect(n.get('dl_a')).toBeUndefined();
    expect(n.attempts('dl_a')).toEqual([]);
    expect(n.get('dl_b')?.state).toBe('held');
  });

  it('keeps channels, outbox and the enqueue cursor across a reopen', () => {
    t.store.notify.addChannel(channel('ops'));
    t.store.transaction(() => {
      t.store.notify.enqueue(outbox('dl_1'));
      t.store.meta.set('notify.cursor', '42');
    });
    const s = t.reopen();
    expect(s.notify.get('dl_1')?.state).toBe('pending');
    expect(s.meta.get('notify.cursor')).toBe('42');
  });
});

describe('PostgreSQL store made by an okesu before alert delivery (schema 7)', () => {
  it('gains the notify tables on open', async () => {
    const pg = await testPostgresUrl();
    try {
      const db = openPostgresDb(pg.url);
      db.exec(`CREATE TABLE okesu_schema (version INTEGER NOT NULL); ${POSTGRES_SCHEMA}`);
      db.prepare('INSERT INTO okesu_schema (version) VALUES (7)').run();
      db.close();
      const store = openStore(pg.url);
      try {
        expect(store.notify.addChannel(channel('ops'))).toBe(true);
        expect(store.db.prepare<[], { v: number }>('SELECT max(version) AS v FROM okesu_schema').get()?.v).toBe(8);
      } finally {
        store.close();
      }
    } finally {
      await pg.drop();
    }
  });
});
