import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/cp/store/store.js';
import type { EventRecord } from '../../../src/protocol/tunnel.js';
import { useTestStore } from '../../support/store-kinds.js';
import { asTicks, findingRecord, runId } from '../cp-harness.js';

// A finding's group is its problem, not its instance: through the real SQLite store, repeats of one problem that
// differ only in volatile ids (pids, an outgoing connection's client port) make one group, and what is the problem's
// identity (a listener's port, the binary) keeps groups apart.

const NOW = 1_800_000_000_000;
let seq = 0;
const f = (fields: Record<string, unknown>): EventRecord => findingRecord(runId(), ++seq, fields);

describe('finding groups (sqlite)', () => {
  let store: Store;
  useTestStore('sqlite', (opened) => (store = opened.store));
  const groups = () => store.findingViews.groups({ limit: 100 }).map((g) => [g.title, g.count, g.hosts]).sort();

  it('makes one group of one memfd executable under three pids, on two hosts', () => {
    const memfd = (pid: number) => f({
      severity: 'HIGH', title: 'Process running from an in-memory (memfd) executable', resource: `binary:/memfd:payload (deleted), pid:${pid}`,
      dedup_key: 'memfd-exe:/memfd:payload', attributes: { rule: 'memfd-executable', pid },
    });
    store.ingest.ingest('web-01', asTicks([memfd(101), memfd(202)]), NOW);
    store.ingest.ingest('web-02', asTicks([memfd(303)]), NOW);
    // Another memfd binary is another problem.
    store.ingest.ingest('web-02', asTicks([f({ severity: 'HIGH', title: 'Process running from an in-memory (memfd) executable', resource: 'pid:404, binary:/memfd:other', dedup_key: 'memfd-exe:/memfd:other' })]), NOW);
    expect(groups()).toEqual([
      ['Process running from an in-memory (memfd) executable', 1, 1],
      ['Process running from an in-memory (memfd) executable', 3, 2],
    ]);
  });

  it('groups outgoing connections across client ports, and keeps listeners on different ports apart', () => {
    const beacon = (cport: number) => f({ severity: 'HIGH', title: 'Shell with a network socket', resource: `ip:203.0.113.9, port:4444, cport:${cport}, pid:${cport + 1}` });
    store.ingest.ingest('h1', asTicks([beacon(40001), beacon(51234), beacon(60999)]), NOW);
    const listener = (port: number) => f({ severity: 'MEDIUM', title: 'Unexpected listener', resource: `port:${port}, pid:77` });
    store.ingest.ingest('h1', asTicks([listener(22), listener(8080), listener(8080)]), NOW);
    expect(groups()).toEqual([
      ['Shell with a network socket', 3, 1],
      ['Unexpected listener', 1, 1],
      ['Unexpected listener', 2, 1],
    ]);
  });

  it('keeps apart what the dedup key says are different problems, even with one resource', () => {
    store.ingest.ingest('h1', asTicks([
      f({ severity: 'LOW', title: 'Cron entry', resource: 'path:/etc/crontab', dedup_key: 'cron:a' }),
      f({ severity: 'LOW', title: 'Cron entry', resource: 'path:/etc/crontab', dedup_key: 'cron:b' }),
    ]), NOW);
    expect(groups()).toEqual([['Cron entry', 1, 1], ['Cron entry', 1, 1]]);
  });
});
