import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode, startCp, waitFor, type CpHarness } from '../cp-harness.js';
import { fakeDaimons, getRun, start, stepOf, waitRun } from './orch-helpers.js';
import type { OrchestrationRunView } from '../../../src/protocol/orchestration-api.js';

let h: CpHarness;
beforeEach(async () => {
  h = await startCp();
});
afterEach(async () => {
  await h.close();
});

const GATED = `
name: triage
inputs: { host: { type: string, required: true } }
steps:
  - { id: scan, agent: edr, node: "{{trigger.host}}" }
  - id: contain
    agent: forensic
    node: "{{trigger.host}}"
    prompt: "snapshot {{scan.result.pid}}"
    inputs: { pid: "{{scan.result.pid}}" }
    approval: required
  - { id: report, agent: edr, node: "{{trigger.host}}" }
`;

const post = (path: string, json: unknown = {}, token?: string) => h.request('POST', path, { json, ...(token ? { token } : {}) });

describe('approval gates', () => {
  it('stops before the step with its prompt rendered; approve runs exactly that and the run completes', async () => {
    const [web] = await fakeDaimons(h, ['web-01'], (env) => ({ result: env.agent === 'edr' ? { pid: 4242 } : {} }));
    const begun = await start(h, { spec: GATED, inputs: { host: 'web-01' } });
    const waiting = await waitRun(h, begun.id, (r) => r.status === 'approval_required');
    const gate = stepOf(waiting, 'contain');
    expect(gate).toMatchObject({ status: 'waiting_approval', prompt: 'snapshot 4242', inputs: { pid: '4242' }, hosts: [] });
    expect(stepOf(waiting, 'report').status).toBe('pending');
    expect(web?.envelopes).toHaveLength(1);

    const approved = await post(`/v1/orchestration-runs/${begun.id}/steps/contain/approve`, { reason: 'looks right' });
    expect(approved.status).toBe(200);
    expect(stepOf(approved.body as OrchestrationRunView, 'contain')).toMatchObject({ status: 'running', decided_by: 'admin' });
    const done = await waitRun(h, begun.id);
    expect(done.status).toBe('completed');
    expect(web?.envelopes[1]).toMatchObject({ agent: 'forensic', prompt: 'snapshot 4242', inputs: { pid: '4242' } });
    const audit = await h.admin.audit(20);
    expect(audit.find((e) => e.action === 'orchestration.approve')).toMatchObject({ actor: 'admin', target: begun.id, detail: { step: 'contain', reason: 'looks right' } });
  });

  it('reject fails the step with who and why and ends the run failed; a second decision is 409', async () => {
    const [web] = await fakeDaimons(h, ['web-01'], () => ({ result: { pid: 1 } }));
    const begun = await start(h, { spec: GATED, inputs: { host: 'web-01' } });
    await waitRun(h, begun.id, (r) => r.status === 'approval_required');
    const rejected = await post(`/v1/orchestration-runs/${begun.id}/steps/contain/reject`, { reason: 'false positive' });
    expect(rejected.status).toBe(200);
    const run = rejected.body as OrchestrationRunView;
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'contain')).toMatchObject({ status: 'failed', error: 'rejected by admin: false positive', decided_by: 'admin' });
    expect(stepOf(run, 'report').status).toBe('skipped');
    expect(web?.envelopes).toHaveLength(1);
    const again = await post(`/v1/orchestration-runs/${begun.id}/steps/contain/approve`);
    expect(again.status).toBe(409);
    expect(errorCode(again.body)).toBe('OKS_ERR_STATE');
  });

  it('answers 409 for a step that is not waiting and 404 for an unknown step or run', async () => {
    await fakeDaimons(h, ['web-01'], () => ({ hold: true }));
    const begun = await start(h, { spec: GATED, inputs: { host: 'web-01' } });
    expect((await post(`/v1/orchestration-runs/${begun.id}/steps/scan/approve`)).status).toBe(409);
    expect((await post(`/v1/orchestration-runs/${begun.id}/steps/nope/approve`)).status).toBe(404);
    expect((await post('/v1/orchestration-runs/o_nope/steps/scan/reject')).status).toBe(404);
  });

  it('lets an operator decide and refuses a viewer (403), who may still read', async () => {
    await fakeDaimons(h, ['web-01'], () => ({ result: { pid: 1 } }));
    const viewer = (await h.mintOperator('viewer')).token;
    const operator = (await h.mintOperator('operator', 'olga')).token;
    expect((await post('/v1/orchestration-runs', { spec: GATED, inputs: { host: 'web-01' } }, viewer)).status).toBe(403);
    const begun = await start(h, { spec: GATED, inputs: { host: 'web-01' } });
    await waitRun(h, begun.id, (r) => r.status === 'approval_required');
    const denied = await post(`/v1/orchestration-runs/${begun.id}/steps/contain/approve`, {}, viewer);
    expect(denied.status).toBe(403);
    expect(errorCode(denied.body)).toBe('OKS_ERR_FORBIDDEN');
    expect((await post(`/v1/orchestration-runs/${begun.id}/cancel`, {}, viewer)).status).toBe(403);
    expect((await h.request('GET', `/v1/orchestration-runs/${begun.id}`, { token: viewer })).status).toBe(200);
    expect((await h.request('GET', '/v1/orchestration-runs', { token: viewer })).status).toBe(200);
    const ok = await post(`/v1/orchestration-runs/${begun.id}/steps/contain/approve`, {}, operator);
    expect(ok.status).toBe(200);
    expect(stepOf(ok.body as OrchestrationRunView, 'contain').decided_by).toBe('olga');
  });
});

describe('cancel', () => {
  it('cancels the run, fails the running step, skips the rest and cancels the agent runs on the hosts', async () => {
    const daimons = await fakeDaimons(h, ['web-01', 'web-02'], () => ({ hold: true }));
    const begun = await start(h, { spec: 'name: long\nsteps:\n  - { id: a, agent: edr, nodes: [web-01, web-02] }\n  - { id: b, agent: edr, node: web-01 }\n' });
    expect(stepOf(begun, 'a').hosts.every((x) => x.status === 'running' && x.run_id !== null)).toBe(true);
    const cancelled = await post(`/v1/orchestration-runs/${begun.id}/cancel`, { reason: 'wrong host' });
    expect(cancelled.status).toBe(200);
    const run = cancelled.body as OrchestrationRunView;
    expect(run).toMatchObject({ status: 'cancelled', error: 'cancelled by admin: wrong host' });
    expect(stepOf(run, 'a')).toMatchObject({ status: 'failed', error: 'cancelled by admin: wrong host' });
    expect(stepOf(run, 'b').status).toBe('skipped');
    const agentRuns = stepOf(run, 'a').hosts.map((x) => x.run_id);
    await waitFor(() => daimons.every((d, i) => d.cancels.includes(agentRuns[i] as string)), 5000, 'cancel frames on both tunnels');
    // the hosts report the cancelled ends; the cancelled run does not move again
    await waitFor(async () => (await h.admin.getRun(agentRuns[0] as string)).status === 'cancelled');
    expect((await getRun(h, begun.id)).status).toBe('cancelled');
    const again = await post(`/v1/orchestration-runs/${begun.id}/cancel`);
    expect(again.status).toBe(409);
    expect(errorCode(again.body)).toBe('OKS_ERR_STATE');
  });

  it('cancels a run waiting for approval', async () => {
    await fakeDaimons(h, ['web-01'], () => ({ result: { pid: 1 } }));
    const begun = await start(h, { spec: GATED, inputs: { host: 'web-01' } });
    await waitRun(h, begun.id, (r) => r.status === 'approval_required');
    const run = (await post(`/v1/orchestration-runs/${begun.id}/cancel`)).body as OrchestrationRunView;
    expect(run.status).toBe('cancelled');
    expect(run.steps.map((s) => s.status)).toEqual(['completed', 'skipped', 'skipped']);
  });
});
