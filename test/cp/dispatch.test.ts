import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatchEnvelopeSchema } from '../../src/protocol/dispatch.js';
import type { RunView } from '../../src/protocol/api.js';
import {
  errorCode, errorMessage, findingRecord, record, sendEvents, startCp, waitFor, type CpHarness, type HostIdentity, type TestSocket,
} from './cp-harness.js';

let h: CpHarness;
let web01: HostIdentity;
beforeEach(async () => {
  h = await startCp();
  web01 = await h.registerHost('web-01');
});
afterEach(async () => {
  await h.close();
});

/** Dispatches `edr` to web-01 over `tunnel`; returns the run and the envelope the tunnel received. */
async function dispatch(tunnel: TestSocket, body: Record<string, unknown> = {}): Promise<{ run: RunView; envelope: unknown }> {
  const from = tunnel.frames.length;
  const run = await h.admin.createRun({ agent: 'edr', host: 'web-01', ...body });
  const frame = await tunnel.next((f) => f.type === 'dispatch', { from });
  return { run, envelope: frame['envelope'] };
}

const runStatus = (runId: string, status: RunView['status']) => async () => {
  const run = await h.admin.getRun(runId);
  return run.status === status ? run : undefined;
};

describe('dispatch', () => {
  it('refuses a host with no tunnel with 409 OKS_ERR_HOST_UNREACHABLE saying so', async () => {
    const answer = await h.request('POST', '/v1/runs', { json: { agent: 'edr', host: 'web-01' } });
    expect(answer.status).toBe(409);
    expect(errorCode(answer.body)).toBe('OKS_ERR_HOST_UNREACHABLE');
    expect(errorMessage(answer.body)).toMatch(/no tunnel connected/);
    expect(await h.admin.listRuns()).toHaveLength(0);
  });

  it('refuses an unknown host with 404', async () => {
    const answer = await h.request('POST', '/v1/runs', { json: { agent: 'edr', host: 'nowhere' } });
    expect(answer.status).toBe(404);
    expect(errorCode(answer.body)).toBe('OKS_ERR_NOT_FOUND');
    expect(errorMessage(answer.body)).toMatch(/nowhere/);
  });

  it('sends a valid dispatch envelope down the tunnel and records the run as dispatched', async () => {
    const tunnel = await h.connectHost(web01);
    const { run, envelope } = await dispatch(tunnel, { prompt: 'look around', inputs: { depth: 2 }, timeout_ms: 60_000, definition: '# edr' });
    const parsed = dispatchEnvelopeSchema.safeParse(envelope);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toMatchObject({ run_id: run.run_id, agent: 'edr', prompt: 'look around', inputs: { depth: 2 }, timeout_ms: 60_000, definition: '# edr' });
    expect(run).toMatchObject({ host: 'web-01', agent: 'edr', status: 'dispatched', created_by: 'admin' });
    expect((await h.admin.getRun(run.run_id)).status).toBe('dispatched');
  });

  it('fails the run with the host error when the host refuses the dispatch', async () => {
    const tunnel = await h.connectHost(web01);
    const { run } = await dispatch(tunnel);
    tunnel.send({ type: 'dispatch_ack', run_id: run.run_id, accepted: false, error: { code: 'OKS_ERR_AGENT_UNKNOWN', message: 'no agent edr here' } });
    const failed = await waitFor(runStatus(run.run_id, 'failed'));
    expect(failed.error).toBe('OKS_ERR_AGENT_UNKNOWN: no agent edr here');
    expect(failed.ended_at).not.toBeNull();
  });

  it('keeps the run dispatched when the host accepts it', async () => {
    const tunnel = await h.connectHost(web01);
    const { run } = await dispatch(tunnel);
    tunnel.send({ type: 'dispatch_ack', run_id: run.run_id, accepted: true });
    // a heartbeat round trip orders after the ack on the same socket
    tunnel.send({ type: 'heartbeat', seq: 1, ts: Date.now(), running: 1, spool_depth: 0 });
    await tunnel.next((f) => f.type === 'heartbeat_ack');
    expect((await h.admin.getRun(run.run_id)).status).toBe('dispatched');
  });

  it('sends no timeout when the operator set none: the host applies its agent file’s, and the CP keeps the one run_start names', async () => {
    const tunnel = await h.connectHost(web01);
    const { run, envelope } = await dispatch(tunnel);
    expect(envelope).not.toHaveProperty('timeout_ms');
    expect(run.timeout_ms).toBe(300_000);
    await sendEvents(tunnel, [record(run.run_id, 1, { type: 'run_start', timeout_ms: 3_600_000 })]);
    expect(await waitFor(runStatus(run.run_id, 'running'))).toMatchObject({ timeout_ms: 3_600_000 });
  });

  it.each([['not a number', 'soon'], ['zero', 0], ['over 7 days', 8 * 86_400_000], ['fractional', 1.5]])('ignores a run_start timeout that is %s', async (_label, value) => {
    const tunnel = await h.connectHost(web01);
    const { run } = await dispatch(tunnel, { timeout_ms: 60_000 });
    await sendEvents(tunnel, [record(run.run_id, 1, { type: 'run_start', timeout_ms: value })]);
    expect(await waitFor(runStatus(run.run_id, 'running'))).toMatchObject({ timeout_ms: 60_000 });
  });

  it('moves the run to running on run_start and to completed on run_end', async () => {
    const tunnel = await h.connectHost(web01);
    const { run } = await dispatch(tunnel);
    await sendEvents(tunnel, [record(run.run_id, 1, { type: 'run_start' })]);
    const running = await waitFor(runStatus(run.run_id, 'running'));
    expect(running.started_at).not.toBeNull();
    await sendEvents(tunnel, [findingRecord(run.run_id, 2), record(run.run_id, 3, { type: 'run_end', status: 'completed', findings: 1 })]);
    const done = await waitFor(runStatus(run.run_id, 'completed'));
    expect(done).toMatchObject({ events: 3, findings: 1, error: null });
    expect(done.ended_at).not.toBeNull();
  });

  it('sends cancel down the tunnel; cancelling a finished run is 409 OKS_ERR_RUN_FINISHED', async () => {
    const tunnel = await h.connectHost(web01);
    const { run } = await dispatch(tunnel);
    await h.admin.cancelRun(run.run_id, 'enough');
    const cancel = await tunnel.nextOfType('cancel');
    expect(cancel).toEqual({ type: 'cancel', run_id: run.run_id, reason: 'enough' });
    expect((await h.admin.audit()).some((e) => e.action === 'run.cancel' && e.target === run.run_id)).toBe(true);

    await sendEvents(tunnel, [record(run.run_id, 1, { type: 'run_end', status: 'cancelled' })]);
    await waitFor(runStatus(run.run_id, 'cancelled'));
    const again = await h.request('POST', `/v1/runs/${run.run_id}/cancel`, { json: {} });
    expect(again.status).toBe(409);
    expect(errorCode(again.body)).toBe('OKS_ERR_RUN_FINISHED');
    expect(errorMessage(again.body)).toMatch(/cancelled/);
  });

  it('cancels at the CP at once when the host has no tunnel', async () => {
    const tunnel = await h.connectHost(web01);
    const { run } = await dispatch(tunnel);
    tunnel.terminate();
    await waitFor(async () => !(await h.admin.hosts())[0]?.connected, 5000, 'tunnel down');
    const cancelled = await h.admin.cancelRun(run.run_id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.error).toMatch(/host unreachable/);
  });

  it('answers a long poll for run events with the event ingested while it waited', async () => {
    const tunnel = await h.connectHost(web01);
    const { run } = await dispatch(tunnel);
    // with nothing to read, a poll waits its wait_ms and answers empty
    const empty = await h.admin.runEvents(run.run_id, 0, 100);
    expect(empty).toMatchObject({ events: [], next: 0 });

    const poll = h.admin.runEvents(run.run_id, 0, 5000);
    await sendEvents(tunnel, [record(run.run_id, 1, { type: 'run_start' })]);
    const page = await poll;
    expect(page.events.map((e) => ({ seq: e.seq, type: e.type }))).toEqual([{ seq: 1, type: 'run_start' }]);
    expect(page.next).toBe(1);

    // the next poll from `next` waits for what comes after, and returns it
    const second = h.admin.runEvents(run.run_id, page.next, 5000);
    await sendEvents(tunnel, [record(run.run_id, 2, { type: 'text', text: 'later' })]);
    const page2 = await second;
    expect(page2.events.map((e) => e.seq)).toEqual([2]);
    expect(page2.next).toBe(2);
  });
});
