import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  asTicks, errorCode, errorMessage, findingRecord, record, runId, sendEvents, startCp, type CpHarness, type HostIdentity,
} from './cp-harness.js';

/** `{a: {a: … 1}}`, `depth` objects deep, built without recursion. */
const deepObject = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};
/** JSON text of `depth` nested arrays: what JSON.parse takes at any depth but nothing recursive can walk. */
const deepArrayText = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

let h: CpHarness;
let web01: HostIdentity;
beforeEach(async () => {
  h = await startCp();
  web01 = await h.registerHost('web-01');
});
afterEach(async () => {
  await h.close();
});

const healthy = async (): Promise<void> => {
  expect((await h.request('GET', '/v1/health', { token: null })).status).toBe(200);
};

describe('deeply nested JSON on the API', () => {
  it.each([
    ['a run to one host', '/v1/runs', { agent: 'edr', host: 'web-01' }],
    ['a fan-out', '/v1/runs', { agent: 'edr', hosts: ['web-01'] }],
    ['an orchestration run', '/v1/orchestration-runs', { spec: 'name: o\nsteps:\n  - { id: a, agent: edr, node: web-01 }\n' }],
  ])('%s with 5,000-deep inputs → 400 OKS_ERR_NESTING_TOO_DEEP naming inputs, nothing stored', async (_name, path, body) => {
    const tunnel = await h.connectHost(web01);
    // written by hand: JSON.stringify itself overflows at this depth
    const raw = `${JSON.stringify(body).slice(0, -1)},"inputs":{"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`;
    const answer = await h.request('POST', path, { raw });
    expect(answer.status).toBe(400);
    expect(errorCode(answer.body)).toBe('OKS_ERR_NESTING_TOO_DEEP');
    expect(errorMessage(answer.body)).toMatch(/request body: inputs: nested more than 64 levels/);
    expect(await h.admin.listRuns()).toEqual([]);
    expect(tunnel.ofType('dispatch')).toEqual([]);
    await healthy();
  });

  it('takes inputs 64 levels deep', async () => {
    const tunnel = await h.connectHost(web01);
    const answer = await h.request('POST', '/v1/runs', { json: { agent: 'edr', host: 'web-01', inputs: { x: deepObject(63) } } });
    expect(answer.status).toBe(201);
    const dispatch = await tunnel.nextOfType('dispatch');
    expect((dispatch['envelope'] as { inputs: unknown }).inputs).toEqual({ x: deepObject(63) });
  });

  it('answers a body of 400,000 nested arrays with a 400, not a crash', async () => {
    const answer = await h.request('POST', '/v1/runs', { raw: deepArrayText(400_000) });
    expect(answer.status).toBe(400);
    expect(errorCode(answer.body)).toBe('OKS_ERR_BAD_REQUEST');
    const inInputs = await h.request('POST', '/v1/runs', { raw: `{"agent":"edr","host":"web-01","inputs":{"x":${deepArrayText(400_000)}}}` });
    expect(errorCode(inInputs.body)).toBe('OKS_ERR_NESTING_TOO_DEEP');
    await healthy();
  });
});

describe('deeply nested JSON on the tunnel', () => {
  it('an event 5,000 levels deep → error frame OKS_ERR_NESTING_TOO_DEEP naming the record, close; nothing stored; the host comes back', async () => {
    const tunnel = await h.connectHost(web01);
    const run = runId();
    const from = tunnel.frames.length;
    const good = JSON.stringify(asTicks([findingRecord(run, 1)]));
    tunnel.ws.send(`{"type":"events","records":[${good.slice(1, -1)},{"run_id":"${run}","seq":2,"event":{"type":"text","ts":1,"agent":"edr","payload":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}]}`);
    const error = await tunnel.next((f) => f.type === 'error', { from });
    expect(error['code']).toBe('OKS_ERR_NESTING_TOO_DEEP');
    expect(error['message']).toMatch(/records\.2\.event: nested more than 64 levels/);
    expect((await tunnel.waitClosed()).code).toBe(1008);

    await healthy();
    expect(await h.admin.listRuns()).toEqual([]);
    expect((await h.admin.findings()).findings).toHaveLength(0);
    const again = await h.connectHost(web01);
    await sendEvents(again, asTicks([record(runId(), 1, { type: 'text', text: 'still here', payload: deepObject(60) })]));
    expect(await h.admin.listRuns()).toHaveLength(1);
  });

  it('a frame of a million nested arrays → error frame, and the CP keeps serving', async () => {
    const tunnel = await h.connectHost(web01);
    const from = tunnel.frames.length;
    tunnel.ws.send(deepArrayText(1_000_000));
    const error = await tunnel.next((f) => f.type === 'error', { from });
    expect(error['code']).toBe('OKS_ERR_BAD_FRAME');
    await tunnel.waitClosed();
    await healthy();
  });
});

describe('deeply nested YAML on the API', () => {
  it('a 20,000-deep orchestration spec, again and again → 400 naming the line, and the CP keeps serving', async () => {
    // Without the bound the yaml library overflowed its stack on these (and a second such document can abort a process).
    for (let i = 0; i < 3; i++) {
      const answer = await h.request('PUT', '/v1/orchestrations/deep', { json: { spec: `name: deep\nsteps:\n  ${'- '.repeat(20_000)}x\n` } });
      expect(answer.status).toBe(400);
      expect((answer.body as { errors: unknown[] }).errors).toMatchObject([{ line: 3, message: 'invalid YAML: nested more than 64 levels deep' }]);
      const run = await h.request('POST', '/v1/orchestration-runs', { json: { spec: `name: deep\nsteps: ${'['.repeat(100_000)}\n` } });
      expect(run.status).toBe(400);
    }
    await healthy();
  });
});
