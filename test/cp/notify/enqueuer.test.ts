import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createNotifyEnqueuer, NOTIFY_CURSOR_KEY } from '../../../src/cp/notify/enqueuer.js';
import { openStore, type Store } from '../../../src/cp/store/store.js';
import { notifyRulesSchema, type NotifyRulesInput } from '../../../src/protocol/notify-api.js';
import { openTestStore, storeKinds, type TestStore } from '../../support/store-kinds.js';
import { findingRecord, runId, tickStart } from '../cp-harness.js';

const log = pino({ level: 'silent' });
let owned: TestStore | undefined;
const extra: Store[] = [];
afterEach(async () => {
  for (const s of extra.splice(0)) s.close();
  await owned?.dispose();
  owned = undefined;
});

const addChannel = (store: Store, name: string, rules: NotifyRulesInput = {}): void =>
  void store.notify.addChannel({ name, kind: 'webhook', config: '{}', sealed: 'x', rules: JSON.stringify(notifyRulesSchema.parse(rules)), created_at: 0, created_by: 't' });

/** Ingests findings the way the ingest queue does (one transaction, feed entries by reference). */
const ingest = (store: Store, at: number, ...findings: Record<string, unknown>[]): void => {
  const run = runId();
  store.ingest.ingest('web-01', [tickStart(run), ...findings.map((f, i) => findingRecord(run, i + 1, f))], at);
};

describe.each(storeKinds)('the notify enqueuer on %s', (kind) => {
  it('starts at the feed head, enqueues each new group once, and a second enqueuer (a new leader) continues from the cursor', async () => {
    owned = await openTestStore(kind);
    const store = owned.store;
    const second = openStore(owned.location, { log });
    extra.push(second);
    ingest(store, 1000, { title: 'before alerting', resource: 'binary:/old' });
    addChannel(store, 'ops');
    let now = 10_000;
    const a = createNotifyEnqueuer({ store, log, now: () => now });
    const b = createNotifyEnqueuer({ store: second, log, now: () => now });
    a.runOnce();
    expect(Number(store.meta.get(NOTIFY_CURSOR_KEY))).toBe(store.feed.head());

    ingest(store, now, { title: 'shell', resource: 'binary:/tmp/nc' }, { title: 'shell', resource: 'binary:/tmp/nc' }, { title: 'low', severity: 'LOW', resource: 'file:/x' });
    expect(a.runOnce()).toBeGreaterThan(0);
    ingest(store, now, { title: 'shell', resource: 'binary:/tmp/nc' }, { title: 'miner', resource: 'binary:/tmp/xmr' });
    now += 1000;
    b.runOnce();
    expect(a.runOnce()).toBe(0);
    const rows = store.notify.recent({ limit: 10 });
    expect(rows.map((r) => JSON.parse(r.findings)[0].title).sort()).toEqual(['miner', 'shell']);
    expect(rows.every((r) => r.kind === 'finding' && r.state === 'pending')).toBe(true);
  });

  it('holds new groups in one digest until a quiet period ends', async () => {
    owned = await openTestStore(kind);
    const store = owned.store;
    addChannel(store, 'night', { quiet: { start: '22:00', end: '07:00' } });
    const now = Date.parse('2026-03-10T23:30:00Z');
    const e = createNotifyEnqueuer({ store, log, now: () => now });
    e.runOnce();
    ingest(store, now, { title: 'a', resource: 'binary:/a' }, { title: 'b', resource: 'binary:/b' });
    e.runOnce();
    const rows = store.notify.recent({ limit: 10 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'digest', state: 'held', total: 2, due_at: Date.parse('2026-03-11T07:00:00Z') });
  });
});
