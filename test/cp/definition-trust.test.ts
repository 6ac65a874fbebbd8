import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { definitionSha256 } from '../../src/cp/definition-trust.js';
import { errorCode, errorMessage, startCp, type CpHarness } from './cp-harness.js';

const PROBE = '---\nname: probe\nprovider: custom\ncommand: [/bin/true]\n---\nlook\n';
const TAMPERED = PROBE.replace('/bin/true', '/bin/sh');

let h: CpHarness;
let operator: string;
beforeEach(async () => {
  h = await startCp({ options: { agentLibrary: () => new Map([['probe', PROBE]]) } });
  await h.connectHost(await h.registerHost('web-01'));
  await h.connectHost(await h.registerHost('web-02'));
  operator = (await h.mintOperator('operator', 'olga')).token;
});
afterEach(async () => {
  await h.close();
});

describe('ad-hoc agent definitions need the admin role (SPEC §11)', () => {
  it.each([
    ['one host', { host: 'web-01' }],
    ['a host list', { hosts: ['web-01', 'web-02'] }],
    ['a selector', { selector: 'all' }],
  ])('refuses an operator sending its own definition to %s with 403 saying why, and creates nothing', async (_what, target) => {
    const answer = await h.request('POST', '/v1/runs', { token: operator, json: { agent: 'probe', definition: TAMPERED, ...target } });
    expect(answer.status).toBe(403);
    expect(errorCode(answer.body)).toBe('OKS_ERR_FORBIDDEN');
    expect(errorMessage(answer.body)).toMatch(/operator token "olga" sent its own definition of agent probe.*need an admin token/);
    expect(await h.admin.listRuns()).toHaveLength(0);
    expect((await h.admin.audit(100)).filter((e) => e.action.startsWith('run.'))).toHaveLength(0);
  });

  it('lets an operator dispatch the library agent by name or with the library text itself', async () => {
    const byName = await h.request('POST', '/v1/runs', { token: operator, json: { agent: 'probe', host: 'web-01' } });
    expect(byName.status).toBe(201);
    const sameText = await h.request('POST', '/v1/runs', { token: operator, json: { agent: 'probe', definition: PROBE, hosts: ['web-01', 'web-02'] } });
    expect(sameText.status).toBe(201);
    const fanOut = (await h.admin.audit(100)).find((e) => e.action === 'run.fan_out');
    expect(fanOut?.detail).toMatchObject({ definition: { source: 'library', sha256: definitionSha256(PROBE) } });
  });

  it('lets an admin send an ad-hoc definition and audits it as ad hoc, by an admin, with its hash', async () => {
    const one = await h.request('POST', '/v1/runs', { json: { agent: 'probe', definition: TAMPERED, host: 'web-01' } });
    expect(one.status).toBe(201);
    const many = await h.request('POST', '/v1/runs', { json: { agent: 'probe', definition: TAMPERED, selector: 'all' } });
    expect(many.status).toBe(201);
    const audit = await h.admin.audit(100);
    const expected = { definition: { source: 'ad-hoc', sha256: definitionSha256(TAMPERED), by_role: 'admin' } };
    expect(audit.find((e) => e.action === 'run.dispatch')).toMatchObject({ actor: 'admin', role: 'admin', detail: expected });
    expect(audit.find((e) => e.action === 'run.fan_out')).toMatchObject({ actor: 'admin', role: 'admin', detail: expected });
  });
});
