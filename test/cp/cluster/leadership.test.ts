import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { leaseLeadership, type Leadership } from '../../../src/cp/cluster/leadership.js';
import { openStore, type Store } from '../../../src/cp/store/store.js';
import { openTestStore, storeKinds, type TestStore } from '../../support/store-kinds.js';

const log = pino({ level: 'silent' });
let owned: TestStore | undefined;
const extra: Store[] = [];
const running: Leadership[] = [];
afterEach(async () => {
  for (const l of running.splice(0)) l.stop();
  for (const s of extra.splice(0)) s.close();
  await owned?.dispose();
  owned = undefined;
});

async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(storeKinds)('leader lease on a %s store', (kind) => {
  it('one replica leads; a clean stop hands over at once; a leader that stops renewing is replaced after the lease', async () => {
    owned = await openTestStore(kind);
    const stores = [owned.store, openStore(owned.location, { log }), openStore(owned.location, { log })];
    extra.push(...stores.slice(1));
    const changes: string[] = [];
    const replicas = stores.map((store, i) => {
      const l = leaseLeadership({ leases: store.leases, replicaId: `r${i}`, ttlMs: 600, renewMs: 100, log });
      l.onChange((leader) => changes.push(`r${i}:${leader ? 'up' : 'down'}`));
      running.push(l);
      return l;
    });
    for (const l of replicas) l.start();
    await until('a leader', () => replicas.some((l) => l.isLeader()));
    expect(replicas.filter((l) => l.isLeader())).toHaveLength(1);
    const first = replicas.findIndex((l) => l.isLeader());
    const epoch1 = replicas[first]?.epoch() as number;
    expect(replicas.every((l) => l.leader() === `r${first}`)).toBe(true);

    // A clean stop releases the lease: another replica takes over on its next renewal, with a higher epoch.
    replicas[first]?.stop();
    await until('a second leader', () => replicas.some((l, i) => i !== first && l.isLeader()), 2000);
    const second = replicas.findIndex((l) => l.isLeader());
    expect(replicas[second]?.epoch()).toBeGreaterThan(epoch1);

    // A leader that goes silent (its store handle closed: the process died) is replaced once its lease expires.
    const silentStore = stores[second] as Store;
    const silent = replicas[second] as Leadership;
    silentStore.close();
    const t0 = Date.now();
    await until('a third leader', () => replicas.some((l, i) => i !== first && i !== second && l.isLeader()), 5000);
    expect(Date.now() - t0).toBeGreaterThan(200);
    // The silent one stepped down by itself before its lease could have been taken.
    await until('the silent leader to step down', () => !silent.isLeader(), 2000);
    expect(changes.filter((c) => c.endsWith(':up'))).toHaveLength(3);
    extra.splice(extra.indexOf(silentStore), 1);
  });
});
