import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createManualClock } from '../../../daimon/scheduler/clock.js';
import { parseOrchestration } from '../../../src/specs/orchestration/parse-orchestration.js';
import { createTriggers } from '../../../src/cp/orchestration/triggers.js';
import { openStore, type Store } from '../../../src/cp/store/store.js';
import { openTestStore, storeKinds, type TestStore } from '../../support/store-kinds.js';

const log = pino({ level: 'silent' });
const at = (hh: number, mm: number): number => new Date(2030, 0, 7, hh, mm, 0, 0).getTime();
const YAML = 'name: every-five\ntriggers: [{ cron: "*/5 * * * *" }]\nsteps: [{ id: a, agent: edr, node: web-01 }]\n';

let owned: TestStore | undefined;
const extra: Store[] = [];
afterEach(async () => {
  for (const s of extra.splice(0)) s.close();
  await owned?.dispose();
  owned = undefined;
});

describe.each(storeKinds)('cron slots on a %s store shared by two would-be leaders', (kind) => {
  it('fire once per slot even when two replicas both have the triggers armed (an old leader that has not noticed yet)', async () => {
    owned = await openTestStore(kind);
    const second = openStore(owned.location, { log });
    extra.push(second);
    const parsed = parseOrchestration(YAML, 'test');
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    owned.store.orchestrations.putOrchestration({ name: 'every-five', yaml: YAML, spec: parsed.spec, updated_at: at(10, 0), updated_by: 'test' });

    const started: string[] = [];
    const replicas = [owned.store, second].map((store, i) => {
      const clock = createManualClock(at(10, 2));
      const triggers = createTriggers({
        repo: store.orchestrations, clock, log,
        start: (spec, fields) => {
          started.push(`r${i}:${String(fields['scheduled_at'])}`);
          return Promise.resolve();
        },
      });
      triggers.start();
      return { clock, triggers };
    });
    for (const r of replicas) await r.clock.advanceTo(at(10, 5));
    for (const r of replicas) await r.clock.advanceTo(at(10, 10));
    for (const r of replicas) r.triggers.stop();
    // Two slots (10:05 and 10:10), each fired by exactly one of the two.
    expect(started.map((s) => s.split(':')[1]).sort()).toEqual([String(at(10, 5)), String(at(10, 10))]);
  });

  it('claims a slot in one statement: the second claim of a slot, or of an earlier one, is refused; a changed cron starts over', async () => {
    owned = await openTestStore(kind);
    const second = openStore(owned.location, { log });
    extra.push(second);
    const [a, b] = [owned.store.orchestrations, second.orchestrations];
    expect(a.claimSlot('o', 0, '*/5 * * * *', at(10, 5))).toBe(true);
    expect(b.claimSlot('o', 0, '*/5 * * * *', at(10, 5))).toBe(false);
    expect(b.claimSlot('o', 0, '*/5 * * * *', at(10, 0))).toBe(false);
    expect(b.claimSlot('o', 0, '*/5 * * * *', at(10, 10))).toBe(true);
    expect(a.claimSlot('o', 0, '*/10 * * * *', at(10, 10))).toBe(true);
    expect(a.lastFired('o', 0, '*/10 * * * *')).toBe(at(10, 10));
    expect(a.claimSlot('o', 1, '*/5 * * * *', at(10, 5))).toBe(true);
  });
});
