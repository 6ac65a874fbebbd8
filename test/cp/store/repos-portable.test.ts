import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/cp/store/store.js';
import type { OrchestrationSpec } from '../../../src/specs/orchestration/orchestration-types.js';
import { findingRecord, record, runId, tickStart } from '../cp-harness.js';
import { storeKinds, useTestStore } from '../../support/store-kinds.js';

// The repositories whose SQL differs per database (JSON functions, window queries, upserts), read back on each.
describe.each(storeKinds)('portable repositories (%s)', (kind) => {
  let store: Store;
  useTestStore(kind, (opened) => (store = opened.store));

  it('orchestrations: runs, steps, hosts, cron slots, and an agent run\'s result and findings read from its transcript', () => {
    const spec = { name: 'o', steps: [] } as unknown as OrchestrationSpec;
    store.orchestrations.putOrchestration({ name: 'o', yaml: 'name: o', spec, updated_at: 1, updated_by: 'me' });
    store.orchestrations.putOrchestration({ name: 'o', yaml: 'name: o # v2', spec, updated_at: 2, updated_by: 'me' });
    expect(store.orchestrations.listOrchestrations().map((o) => [o.name, o.yaml, o.updated_at])).toEqual([['o', 'name: o # v2', 2]]);

    const run = { id: 'or1', name: 'o', spec, status: 'running' as const, trigger: { kind: 'manual' }, triggered_by: 'finding:x', created_at: 5, updated_at: 5, ended_at: null, error: null };
    const step = { run_id: 'or1', idx: 0, step_id: 'a', agent: 'edr', status: 'running' as const, rendered: null, approved: true, result: null, error: null, started_at: 5, ended_at: null, decided_by: null };
    store.transaction(() => store.orchestrations.insertRun(run, [step]));
    const agentRun = runId();
    store.orchestrations.insertHost({ run_id: 'or1', idx: 0, pos: 0, host: 'web-01', status: 'running', agent_run_id: agentRun, result: null, findings: 0, error: null });
    expect(store.orchestrations.activeRuns().map((r) => r.id)).toEqual(['or1']);
    expect(store.orchestrations.activeFindingRunCount('o')).toBe(1);
    expect(store.orchestrations.steps('or1')).toEqual([step]);
    expect(store.orchestrations.hostByAgentRun(agentRun)).toMatchObject({ host: 'web-01', pos: 0 });

    expect(store.orchestrations.claimSlot('o', 0, '* * * * *', 100)).toBe(true);
    expect(store.orchestrations.claimSlot('o', 0, '* * * * *', 160)).toBe(true);
    expect(store.orchestrations.lastFired('o', 0, '* * * * *')).toBe(160);
    expect(store.orchestrations.lastFired('o', 0, '0 * * * *')).toBeUndefined();

    store.ingest.ingest('web-01', [
      tickStart(agentRun, 1),
      findingRecord(agentRun, 2, { title: 'Reverse shell' }),
      record(agentRun, 3, { type: 'orchestration_result', attributes: { v: 1 } }),
      record(agentRun, 4, { type: 'orchestration_result', attributes: { v: 2 } }),
    ], 10);
    expect(store.orchestrations.resultOf(agentRun)).toEqual({ v: 2 });
    expect(store.orchestrations.findingsOf(agentRun, 10).map((f) => [f.title, f.host])).toEqual([['Reverse shell', 'web-01']]);
    expect(store.orchestrations.resultOf('nothing')).toBeNull();
  });

  it('rollouts: hosts per batch, counts, busy and in-flight hosts, and each host\'s latest rollout', () => {
    const base = { version: '2.0.0', created_by: 'me', batch: 1, canary: 1, halt_on_error: true, health_timeout_ms: 1000, allow_downgrade: false };
    store.transaction(() => store.rollouts.insert({ ...base, id: 'ro1', created_at: 1 }, [{ hostname: 'a', batch: 0 }, { hostname: 'b', batch: 1 }]));
    store.transaction(() => store.rollouts.insert({ ...base, id: 'ro2', version: '2.1.0', created_at: 2 }, [{ hostname: 'a', batch: 0 }, { hostname: 'c', batch: 0 }]));
    expect(store.rollouts.get('ro1')).toMatchObject({ state: 'running', halt_on_error: true, allow_downgrade: false });
    expect(store.rollouts.list(10).map((r) => r.id)).toEqual(['ro2', 'ro1']);
    expect(store.rollouts.currentBatch('ro1')).toBe(0);
    expect(store.rollouts.batchHosts('ro2', 0).map((h) => h.hostname)).toEqual(['a', 'c']);
    expect(store.rollouts.inUse('2.0.0')).toBe(true);

    const a = store.rollouts.host('ro1', 'a');
    store.rollouts.setHost({ ...a!, state: 'healthy', ordered_at: 3, updated_at: 3 });
    store.rollouts.setHost({ ...store.rollouts.host('ro1', 'b')!, state: 'downloading', ordered_at: 4, updated_at: 4 });
    expect(store.rollouts.currentBatch('ro1')).toBe(1);
    expect(store.rollouts.counts('ro1')).toMatchObject({ healthy: 1, downloading: 1, pending: 0 });
    expect(store.rollouts.inFlight().map((h) => [h.rollout_id, h.hostname, h.health_timeout_ms])).toEqual([['ro1', 'b', 1000]]);
    expect(store.rollouts.inFlightOf('b').map((h) => h.version)).toEqual(['2.0.0']);
    // a is final in ro1 and waits in the running ro2; b finishes ro1's order; c waits in ro2.
    expect([...store.rollouts.busyHosts()].sort()).toEqual([['a', 'ro2'], ['b', 'ro1'], ['c', 'ro2']]);
    expect(Object.fromEntries(store.rollouts.latestPerHost())).toEqual({
      a: { rollout_id: 'ro2', state: 'pending', version: '2.1.0' },
      b: { rollout_id: 'ro1', state: 'downloading', version: '2.0.0' },
      c: { rollout_id: 'ro2', state: 'pending', version: '2.1.0' },
    });
    store.rollouts.setState('ro1', 'completed', 9, null);
    expect(store.rollouts.withState('running').map((r) => r.id)).toEqual(['ro2']);
  });

  it('tokens, audit and ssh host keys', () => {
    store.tokens.insert({ id: 't1', kind: 'join', role: null, name: 'j', hash: 'h', created_at: 1, expires_at: null, uses_left: 1, created_by: 'me' });
    expect(store.tokens.consumeUse('t1')).toBe(true);
    expect(store.tokens.consumeUse('t1')).toBe(false);
    expect(store.tokens.hasAdmin()).toBe(false);
    expect(store.tokens.get('t1')).toMatchObject({ uses_left: 0, bound_hostname: null });

    store.audit.record(1, { name: 'me', role: 'admin' }, 'a.one', 'x');
    store.audit.record(2, { name: 'me', role: 'admin' }, 'a.two', 'y', { k: 1 });
    expect(store.audit.list(10).map((e) => [e.action, e.detail])).toEqual([['a.two', { k: 1 }], ['a.one', {}]]);

    const pin = { target: 'root@h:22', fingerprint: 'SHA256:x', pinned_at: 1, pinned_by: 'me' };
    expect(store.sshHostKeys.pin(pin)).toBe(true);
    expect(store.sshHostKeys.pin({ ...pin, fingerprint: 'SHA256:y' })).toBe(false);
    expect(store.sshHostKeys.get('root@h:22')?.fingerprint).toBe('SHA256:x');
    expect(store.sshHostKeys.forget('root@h:22')).toBe(true);
  });
});
