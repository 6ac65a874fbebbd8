import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatchEnvelopeSchema } from '../../src/protocol/dispatch.js';
import { fanOutResponseSchema, type RunView } from '../../src/protocol/api.js';
import {
  errorCode, errorMessage, hello, record, sendEvents, startCp, waitFor, type CpHarness, type HostIdentity, type TestSocket,
} from './cp-harness.js';

let h: CpHarness;
beforeEach(async () => {
  h = await startCp();
});
afterEach(async () => {
  await h.close();
});

/** Registers hosts and connects a tunnel for each, announcing its labels in the hello. */
async function fleet(hosts: Record<string, Record<string, string>>): Promise<Map<string, TestSocket>> {
  const join = (await h.mintJoin({ uses: Object.keys(hosts).length })).token;
  const tunnels = new Map<string, TestSocket>();
  for (const [name, labels] of Object.entries(hosts)) {
    const id: HostIdentity = await h.registerHost(name, { token: join });
    const tunnel = await h.connectHost(id, { hello: false });
    tunnel.send(hello({ labels }));
    tunnels.set(name, tunnel);
  }
  const wanted = Object.entries(hosts);
  await waitFor(async () => {
    const listed = new Map((await h.admin.hosts()).map((v) => [v.hostname, v]));
    return wanted.every(([name, labels]) => listed.get(name)?.connected && JSON.stringify(listed.get(name)?.labels) === JSON.stringify(labels));
  }, 5000, 'hosts connected with their labels');
  return tunnels;
}

async function postRuns(json: Record<string, unknown>, token?: string): Promise<{ status: number; body: unknown }> {
  return h.request('POST', '/v1/runs', { json: { agent: 'edr', ...json }, ...(token !== undefined && { token }) });
}

const dispatchesOf = (t: TestSocket): string[] =>
  t.ofType('dispatch').map((f) => dispatchEnvelopeSchema.parse(f['envelope']).run_id);

describe('fan-out dispatch', () => {
  it('creates one run per listed host in one request, sends each host its envelope, audits once', async () => {
    const tunnels = await fleet({ 'web-01': {}, 'web-02': {}, 'db-01': {} });
    const answer = await postRuns({ hosts: ['web-01', 'web-02', 'db-01'], prompt: 'look', inputs: { n: 1 }, timeout_ms: 60_000 });
    expect(answer.status).toBe(201);
    const body = fanOutResponseSchema.parse(answer.body);
    expect(body).toMatchObject({ dispatched: 3, failed: 0 });
    expect(body.runs.map((r) => r.host)).toEqual(['web-01', 'web-02', 'db-01']);
    expect(new Set(body.runs.map((r) => r.run_id)).size).toBe(3);
    for (const run of body.runs) {
      expect(run).toMatchObject({ agent: 'edr', prompt: 'look', status: 'dispatched', timeout_ms: 60_000, created_by: 'admin' });
      const tunnel = tunnels.get(run.host) as TestSocket;
      await tunnel.nextOfType('dispatch');
      expect(dispatchesOf(tunnel)).toEqual([run.run_id]);
      const envelope = dispatchEnvelopeSchema.parse(tunnel.ofType('dispatch')[0]?.['envelope']);
      expect(envelope).toMatchObject({ agent: 'edr', prompt: 'look', inputs: { n: 1 }, timeout_ms: 60_000 });
    }
    const audit = (await h.admin.audit()).filter((e) => e.action.startsWith('run.'));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'run.fan_out', actor: 'admin', detail: { agent: 'edr', hosts: 3, dispatched: 3, unreachable: 0, host_list: ['web-01', 'web-02', 'db-01'] } });
  });

  it('runs each fanned-out run to its own end from its host\'s events', async () => {
    const tunnels = await fleet({ 'web-01': {}, 'web-02': {} });
    const body = fanOutResponseSchema.parse((await postRuns({ hosts: ['web-01', 'web-02'] })).body);
    for (const run of body.runs) {
      const tunnel = tunnels.get(run.host) as TestSocket;
      await tunnel.nextOfType('dispatch');
      tunnel.send({ type: 'dispatch_ack', run_id: run.run_id, accepted: true });
      await sendEvents(tunnel, [record(run.run_id, 0, { type: 'run_start' }), record(run.run_id, 1, { type: 'run_end', status: 'completed' })]);
    }
    const ended = await waitFor(async () => {
      const runs = await Promise.all(body.runs.map((r) => h.admin.getRun(r.run_id)));
      return runs.every((r) => r.status === 'completed') ? runs : undefined;
    }, 5000, 'both runs completed');
    expect(ended.map((r) => r.events)).toEqual([2, 2]);
  });

  it('targets exactly the hosts whose labels match the selector, and every host with all', async () => {
    const tunnels = await fleet({ 'web-01': { env: 'prod', role: 'web' }, 'web-02': { env: 'prod', role: 'web' }, 'db-01': { env: 'prod', role: 'db' }, 'dev-01': { env: 'dev', role: 'web' } });
    const web = fanOutResponseSchema.parse((await postRuns({ selector: 'label:env=prod,role=web' })).body);
    expect(web.runs.map((r) => r.host).sort()).toEqual(['web-01', 'web-02']);
    const prod = fanOutResponseSchema.parse((await postRuns({ selector: 'label:env=prod' })).body);
    expect(prod.runs.map((r) => r.host).sort()).toEqual(['db-01', 'web-01', 'web-02']);
    const all = fanOutResponseSchema.parse((await postRuns({ selector: 'all' })).body);
    expect(all.runs.map((r) => r.host).sort()).toEqual(['db-01', 'dev-01', 'web-01', 'web-02']);
    await waitFor(() => (tunnels.get('web-01') as TestSocket).ofType('dispatch').length === 3, 5000, 'web-01 got three dispatches');
    expect(dispatchesOf(tunnels.get('dev-01') as TestSocket)).toHaveLength(1);
    const audit = (await h.admin.audit()).filter((e) => e.action === 'run.fan_out');
    expect(audit.map((e) => [e.target, e.detail['hosts']])).toEqual([['all', 4], ['label:env=prod', 3], ['label:env=prod,role=web', 2]]);

    const none = await postRuns({ selector: 'label:env=staging' });
    expect(none.status).toBe(404);
    expect(errorMessage(none.body)).toMatch(/no registered host matches label:env=staging/);
  });

  it('refuses the whole request when a listed host is unknown or removed, naming them, and creates nothing', async () => {
    const tunnels = await fleet({ 'web-01': {}, 'web-02': {} });
    await h.admin.removeHost('web-02');
    const answer = await postRuns({ hosts: ['web-01', 'nowhere', 'web-02'] });
    expect(answer.status).toBe(404);
    expect(errorCode(answer.body)).toBe('OKS_ERR_NOT_FOUND');
    expect(errorMessage(answer.body)).toMatch(/2 of the 3 hosts are not registered.*nowhere, web-02; nothing was dispatched/);
    expect(await h.admin.listRuns()).toHaveLength(0);
    expect(dispatchesOf(tunnels.get('web-01') as TestSocket)).toEqual([]);
    expect((await h.admin.audit()).some((e) => e.action.startsWith('run.'))).toBe(false);
  });

  it('gives a registered host without a tunnel a failed run saying why, and dispatches the rest', async () => {
    const tunnels = await fleet({ 'web-01': {} });
    await h.registerHost('asleep');
    const body = fanOutResponseSchema.parse((await postRuns({ hosts: ['web-01', 'asleep'] })).body);
    expect(body).toMatchObject({ dispatched: 1, failed: 1 });
    const asleep = body.runs.find((r) => r.host === 'asleep') as RunView;
    expect(asleep.status).toBe('failed');
    expect(asleep.error).toMatch(/asleep is not reachable: no tunnel connected/);
    expect(asleep.ended_at).not.toBeNull();
    expect((await h.admin.getRun(asleep.run_id)).status).toBe('failed');
    await (tunnels.get('web-01') as TestSocket).nextOfType('dispatch');
    expect((await h.admin.audit()).find((e) => e.action === 'run.fan_out')?.detail).toMatchObject({ dispatched: 1, unreachable: 1 });
  });

  it('puts every created run on the live stream, in cursor order', async () => {
    await fleet({ 'web-01': {}, 'web-02': {}, 'web-03': {} });
    const opened = await h.openStream({ kinds: 'run' });
    if (!opened.ok) throw new Error('stream refused');
    await opened.socket.nextOfType('ready');
    const body = fanOutResponseSchema.parse((await postRuns({ selector: 'all' })).body);
    const seen = await waitFor(() => {
      const runs = opened.socket.ofType('run');
      return runs.length >= 3 ? runs : undefined;
    }, 5000, 'three run messages');
    expect(seen.map((m) => (m['run'] as RunView).run_id)).toEqual(body.runs.map((r) => r.run_id));
    const cursors = seen.map((m) => m['cursor'] as number);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
  });

  it.each([
    ['no target', {}, /exactly one of host, hosts, selector/],
    ['two targets', { host: 'web-01', hosts: ['web-01'] }, /exactly one of host, hosts, selector \(got host, hosts\)/],
    ['an empty list', { hosts: [] }, /hosts/],
    ['a host listed twice', { hosts: ['web-01', 'web-01'] }, /web-01 is listed twice/],
    ['a bad hostname', { hosts: ['web-01', 'no spaces'] }, /hosts\.1/],
    ['a bad selector', { selector: 'env=prod' }, /expected "all" or "label:k=v/],
    ['a selector pair without =', { selector: 'label:env' }, /"env" is not k=v/],
  ])('refuses %s with 400', async (_name, json, message) => {
    await fleet({ 'web-01': {} });
    const answer = await postRuns(json);
    expect(answer.status).toBe(400);
    expect(errorCode(answer.body)).toBe('OKS_ERR_BAD_REQUEST');
    expect(errorMessage(answer.body)).toMatch(message);
    expect(await h.admin.listRuns()).toHaveLength(0);
  });

  it('refuses a viewer with 403 and lets an operator fan out', async () => {
    await fleet({ 'web-01': {}, 'web-02': {} });
    const viewer = await h.mintOperator('viewer');
    const refused = await postRuns({ selector: 'all' }, viewer.token);
    expect(refused.status).toBe(403);
    expect(await h.admin.listRuns()).toHaveLength(0);
    const operator = await h.mintOperator('operator', 'ops');
    const body = await h.client(operator.token).createRuns({ agent: 'edr', hosts: ['web-01', 'web-02'] });
    expect(body.runs.map((r) => r.created_by)).toEqual(['ops', 'ops']);
  });
});
