import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../../src/protocol/ids.js';
import { createEventRelay } from '../../../daimon/event-relay.js';
import { INTERRUPTED_MESSAGE, RECOVERY_SEQ_BASE, createRunRegistry, recoverInterruptedRuns } from '../../../daimon/run-registry.js';
import { openSpool } from '../../../daimon/spool/spool.js';
import type { Spool } from '../../../daimon/spool/spool.js';
import { captureLogger, tempDir } from './helpers.js';

let spool: Spool | undefined;
afterEach(async () => {
  await spool?.close();
  spool = undefined;
});

const marker = (runId: string) => ({ run_id: runId, agent: 'edr', agent_version: '1.0.0', started_at: 1 });

describe('run registry', () => {
  it('keeps a 0600 marker while a run is in flight and deletes it once run_end is durable', () => {
    const dir = join(tempDir('runs'), 'runs');
    const reg = createRunRegistry(dir, captureLogger().log);
    const [a, b] = [newId('r'), newId('r')];
    const ctrl = new AbortController();
    reg.begin(marker(a), ctrl);
    reg.begin(marker(b), new AbortController());
    expect(statSync(join(dir, `${a}.json`)).mode & 0o777).toBe(0o600);
    expect(reg.running().sort()).toEqual([a, b].sort());
    expect(reg.leftovers()).toEqual([]); // running in this process: not left over
    expect(reg.abort(a, 'operator said so')).toBe(true);
    expect(ctrl.signal.reason).toBe('operator said so');

    reg.finish(a, true);
    reg.finish(b, false);
    expect(readdirSync(dir)).toEqual([`${b}.json`]);
    expect(reg.known(a) && reg.known(b)).toBe(true);
    expect(reg.abort(a, 'x')).toBe(false);
    expect(createRunRegistry(dir, captureLogger().log).leftovers()).toEqual([marker(b)]);
  });

  it('remembers refused runs and deletes unreadable markers', () => {
    const dir = tempDir('refused');
    const reg = createRunRegistry(dir, captureLogger().log);
    const id = newId('r');
    reg.refuse(id);
    expect(reg.known(id)).toBe(true);
    writeFileSync(join(dir, `${newId('r')}.json`), '{not json');
    writeFileSync(join(dir, 'other.json'), JSON.stringify(marker('r_bad')));
    expect(reg.leftovers()).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ends runs a dead daimon left in flight with error + run_end from the reserved range, idempotently', async () => {
    const state = tempDir('recover');
    const dir = join(state, 'runs');
    const id = newId('r');
    createRunRegistry(dir, captureLogger().log).begin(marker(id), new AbortController());

    const s = (spool = await openSpool({ dir: join(state, 'spool') }));
    const relay = createEventRelay({ spool: s, hostname: 'web-01', onAppended: () => undefined, log: captureLogger().log, now: () => 9 });
    const ended = await recoverInterruptedRuns(createRunRegistry(dir, captureLogger().log), relay, captureLogger().log);
    expect(ended).toEqual([id]);
    expect(readdirSync(dir)).toEqual([]);
    expect(s.pending().map((r) => ({ run_id: r.run_id, seq: r.seq, event: r.event }))).toEqual([
      { run_id: id, seq: RECOVERY_SEQ_BASE, event: { type: 'error', message: INTERRUPTED_MESSAGE, ts: 9, host: 'web-01', agent: 'edr', agent_version: '1.0.0', run_id: id, seq: RECOVERY_SEQ_BASE } },
      { run_id: id, seq: RECOVERY_SEQ_BASE + 1, event: { type: 'run_end', status: 'failed', error: INTERRUPTED_MESSAGE, ts: 9, host: 'web-01', agent: 'edr', agent_version: '1.0.0', run_id: id, seq: RECOVERY_SEQ_BASE + 1 } },
    ]);
    expect(relay.openRuns()).toEqual([]);
    expect(await recoverInterruptedRuns(createRunRegistry(dir, captureLogger().log), relay, captureLogger().log)).toEqual([]);
  });
});
