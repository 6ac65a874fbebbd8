import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OrchestrationRunView, OrchestrationView } from '../../../src/protocol/orchestration-api.js';
import { errorCode, errorMessage, startCp, type CpHarness } from '../cp-harness.js';
import { apply, fakeDaimons, start, waitRun } from './orch-helpers.js';

let h: CpHarness;
beforeEach(async () => {
  h = await startCp();
});
afterEach(async () => {
  await h.close();
});

const SPEC = `name: triage
description: look then act
inputs: { pid: { type: int, required: true } }
triggers: [{ cron: "0 3 * * *" }, { finding: "finding.severity == 'HIGH'" }]
steps:
  - { id: scan, agent: edr, node: web-01, prompt: "pid {{trigger.pid}}" }
`;

describe('orchestration API', () => {
  it('stores a spec, lists it and shows its YAML; audits the apply', async () => {
    const put = await h.request('PUT', '/v1/orchestrations/triage', { json: { spec: SPEC } });
    expect(put.status).toBe(200);
    const view = put.body as OrchestrationView;
    expect(view).toMatchObject({
      name: 'triage', description: 'look then act', steps: [{ id: 'scan', agent: 'edr' }], updated_by: 'admin',
      triggers: [{ type: 'cron', cron: '0 3 * * *' }, { type: 'finding', filter: "finding.severity == 'HIGH'" }],
    });
    expect((await h.request('GET', '/v1/orchestrations')).body).toEqual([view]);
    expect((await h.request('GET', '/v1/orchestrations/triage')).body).toEqual({ view, spec: SPEC });
    expect((await h.request('GET', '/v1/orchestrations/nope')).status).toBe(404);
    expect((await h.admin.audit(5)).find((e) => e.action === 'orchestration.apply')).toMatchObject({ target: 'triage', actor: 'admin' });
  });

  it('refuses an invalid spec with 400 OKS_ERR_SPEC_INVALID listing located errors', async () => {
    const bad = 'name: bad\nsteps:\n  - { id: a, agent: edr, node: x, nodes: [y] }\n';
    const put = await h.request('PUT', '/v1/orchestrations/bad', { json: { spec: bad } });
    expect(put.status).toBe(400);
    const body = put.body as { code: string; message: string; errors: { line: number; column: number; field: string; message: string }[] };
    expect(body.code).toBe('OKS_ERR_SPEC_INVALID');
    expect(errorCode(body)).toBe('OKS_ERR_SPEC_INVALID');
    expect(body.errors[0]).toMatchObject({ line: 3, field: 'steps.0.nodes' });
    expect((await h.request('GET', '/v1/orchestrations')).body).toEqual([]);
    const inline = await h.request('POST', '/v1/orchestration-runs', { json: { spec: bad } });
    expect(inline.status).toBe(400);
    expect((inline.body as { code: string }).code).toBe('OKS_ERR_SPEC_INVALID');
  });

  it('refuses a spec whose name differs from the path', async () => {
    const put = await h.request('PUT', '/v1/orchestrations/other', { json: { spec: SPEC } });
    expect(put.status).toBe(400);
    expect(errorMessage(put.body)).toMatch(/named triage but was applied as other/);
  });

  it('starts a stored orchestration by name (201), refuses an unknown name (404) and a bad input (400 naming it)', async () => {
    await fakeDaimons(h, ['web-01'], () => ({}));
    await apply(h, SPEC);
    const missing = await h.request('POST', '/v1/orchestration-runs', { json: { name: 'triage', inputs: {} } });
    expect(missing.status).toBe(400);
    expect(errorMessage(missing.body)).toMatch(/pid/);
    const wrong = await h.request('POST', '/v1/orchestration-runs', { json: { name: 'triage', inputs: { pid: 'abc' } } });
    expect(wrong.status).toBe(400);
    expect(errorMessage(wrong.body)).toMatch(/input pid: expected an integer/);
    expect((await h.request('POST', '/v1/orchestration-runs', { json: { name: 'nope' } })).status).toBe(404);
    expect((await h.request('POST', '/v1/orchestration-runs', { json: { name: 'triage', spec: SPEC } })).status).toBe(400);

    const run = await start(h, { name: 'triage', inputs: { pid: '42' } });
    expect(run).toMatchObject({ name: 'triage', triggered_by: 'admin', trigger: { pid: 42 } });
    expect(run.steps[0]?.prompt).toBe('pid 42');
    await waitRun(h, run.id);
    const second = await start(h, { name: 'triage', inputs: { pid: 7 } });
    const list = (await h.request('GET', '/v1/orchestration-runs?limit=1')).body as OrchestrationRunView[];
    expect(list.map((r) => r.id)).toEqual([second.id]);
    expect(((await h.request('GET', '/v1/orchestration-runs')).body as OrchestrationRunView[]).map((r) => r.id)).toEqual([second.id, run.id]);
    expect((await h.request('GET', '/v1/orchestration-runs?limit=0')).status).toBe(400);
    expect((await h.request('GET', '/v1/orchestration-runs/o_missing')).status).toBe(404);
  });

  it('sets and removes operator host labels (operator role), audited, and keeps them across a daimon reconnect', async () => {
    const [web] = await fakeDaimons(h, ['web-01'], () => ({}), () => ({ env: 'dev', team: 'a' }));
    const viewer = (await h.mintOperator('viewer')).token;
    expect((await h.request('PUT', '/v1/hosts/web-01/labels', { token: viewer, json: { set: { env: 'prod' } } })).status).toBe(403);
    expect((await h.request('PUT', '/v1/hosts/nope/labels', { json: { set: { env: 'prod' } } })).status).toBe(404);
    expect((await h.request('PUT', '/v1/hosts/web-01/labels', { json: { set: { env: 'prod' }, remove: ['env'] } })).status).toBe(400);
    const put = await h.request('PUT', '/v1/hosts/web-01/labels', { json: { set: { env: 'prod' }, remove: ['team'] } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ hostname: 'web-01', labels: { env: 'prod' } });
    expect((await h.admin.audit(5)).find((e) => e.action === 'host.labels')).toMatchObject({ target: 'web-01', detail: { set: { env: 'prod' }, remove: ['team'] } });
    // the daimon reconnects announcing its own labels again: the operator's still select it
    web?.tunnel.terminate();
    await web?.connect();
    const run = await waitRun(h, (await start(h, { spec: 'name: s\nsteps: [{ id: a, agent: edr, nodes_selector: "label:env=prod" }]\n' })).id);
    expect(run.steps[0]?.hosts.map((x) => x.host)).toEqual(['web-01']);
    const none = await waitRun(h, (await start(h, { spec: 'name: s\nsteps: [{ id: a, agent: edr, nodes_selector: "label:team=a" }]\n' })).id);
    expect(none.steps[0]?.error).toBe('no host matches label:team=a');
  });
});
