import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode, errorMessage, startCp, type CpHarness } from '../cp-harness.js';
import { apply, fakeDaimons } from './orch-helpers.js';

let h: CpHarness;
beforeEach(async () => {
  h = await startCp();
  await fakeDaimons(h, ['web-01'], () => ({}));
  await apply(h, 'name: held\nsteps: [{ id: gate, agent: edr, node: web-01, approval: required }]\n');
});
afterEach(async () => {
  await h.close();
});

interface Case {
  name: string;
  method: string;
  path: string;
  body: { json?: unknown; raw?: string };
  message: RegExp;
}

// Every new operator endpoint refuses malformed bodies with a 400 that names what was wrong, and stores nothing.
const cases: Case[] = [
  { name: 'apply: not JSON', method: 'PUT', path: '/v1/orchestrations/held', body: { raw: 'name: held' }, message: /JSON/ },
  { name: 'apply: spec of the wrong type', method: 'PUT', path: '/v1/orchestrations/held', body: { json: { spec: 42 } }, message: /spec/ },
  { name: 'apply: YAML that is not a mapping', method: 'PUT', path: '/v1/orchestrations/held', body: { json: { spec: '- a\n- b\n' } }, message: /mapping|invalid/ },
  { name: 'run: neither name nor spec', method: 'POST', path: '/v1/orchestration-runs', body: { json: { inputs: {} } }, message: /exactly one of name or spec/ },
  { name: 'run: both name and spec', method: 'POST', path: '/v1/orchestration-runs', body: { json: { name: 'held', spec: 'name: x' } }, message: /exactly one of name or spec/ },
  { name: 'run: inputs not an object', method: 'POST', path: '/v1/orchestration-runs', body: { json: { name: 'held', inputs: ['x'] } }, message: /inputs/ },
  { name: 'cancel: reason of the wrong type', method: 'POST', path: '/v1/orchestration-runs/o_x/cancel', body: { json: { reason: 7 } }, message: /reason/ },
  { name: 'labels: a bad label key', method: 'PUT', path: '/v1/hosts/web-01/labels', body: { json: { set: { 'bad key!': 'x' } } }, message: /set/ },
  { name: 'labels: a non-string value', method: 'PUT', path: '/v1/hosts/web-01/labels', body: { json: { set: { env: 3 } } }, message: /set\.env/ },
];

describe('orchestration and label endpoints refuse garbage', () => {
  it.each(cases)('$name', async ({ method, path, body, message }) => {
    const before = (await h.request('GET', '/v1/orchestration-runs')).body as unknown[];
    const answer = await h.request(method, path, body);
    expect(answer.status).toBe(400);
    expect(errorCode(answer.body)).toMatch(/^OKS_ERR_(BAD_REQUEST|SPEC_INVALID)$/);
    expect(errorMessage(answer.body)).toMatch(message);
    expect((await h.request('GET', '/v1/orchestration-runs')).body).toEqual(before);
    expect((await h.admin.hosts()).find((x) => x.hostname === 'web-01')?.labels).not.toHaveProperty('env');
  });
});
