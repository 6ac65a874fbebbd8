import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/protocol/limits.js';
import {
  asTicks, errorCode, errorMessage, findingRecord, record, runId, sendEvents, startCp, TestSocket, type CpHarness, type HostIdentity,
} from './cp-harness.js';

let h: CpHarness;
let web01: HostIdentity;
beforeEach(async () => {
  h = await startCp();
  web01 = await h.registerHost('web-01');
  // one stored finding, so "nothing was stored" is a count that must not move
  const tunnel = await h.connectHost(web01);
  await sendEvents(tunnel, asTicks([findingRecord(runId(), 1)]));
  tunnel.terminate();
});
afterEach(async () => {
  await h.close();
});

interface FrameCase {
  name: string;
  code: 'OKS_ERR_BAD_FRAME' | 'OKS_ERR_FRAME_TOO_LARGE';
  message: RegExp;
  send(ws: WebSocket): void;
}

const text = (value: unknown): string => JSON.stringify(value);
const run = runId();

const frameCases: FrameCase[] = [
  { name: 'not JSON', code: 'OKS_ERR_BAD_FRAME', message: /not JSON/, send: (ws) => ws.send('hello, CP') },
  { name: 'a JSON array', code: 'OKS_ERR_BAD_FRAME', message: /expected object/, send: (ws) => ws.send(text([{ type: 'hello' }])) },
  { name: 'an unknown frame type', code: 'OKS_ERR_BAD_FRAME', message: /type/, send: (ws) => ws.send(text({ type: 'launch_missiles' })) },
  {
    name: 'a heartbeat with a string seq',
    code: 'OKS_ERR_BAD_FRAME',
    message: /seq: .*number/,
    send: (ws) => ws.send(text({ type: 'heartbeat', seq: 'one', ts: Date.now(), running: 0, spool_depth: 0 })),
  },
  { name: 'events with 0 records', code: 'OKS_ERR_BAD_FRAME', message: /records/, send: (ws) => ws.send(text({ type: 'events', records: [] })) },
  {
    name: 'events with one good and one bad record (the whole frame is refused)',
    code: 'OKS_ERR_BAD_FRAME',
    message: /records\.1\.seq/,
    send: (ws) => ws.send(text({ type: 'events', records: [findingRecord(run, 1), findingRecord(run, -2)] })),
  },
  { name: 'a binary frame', code: 'OKS_ERR_BAD_FRAME', message: /binary/, send: (ws) => ws.send(Buffer.from(text({ type: 'hello' })), { binary: true }) },
  {
    name: 'a frame over LIMITS.tunnelFrameBytes',
    code: 'OKS_ERR_FRAME_TOO_LARGE',
    message: new RegExp(`limit ${LIMITS.tunnelFrameBytes}`),
    send: (ws) => {
      // valid findings, padded past the limit: nothing of it may be stored
      const records = [findingRecord(run, 1, { evidence: ['x'.repeat(1000)] })];
      const frame = text({ type: 'events', records, padding: 'p'.repeat(LIMITS.tunnelFrameBytes) });
      ws.send(frame);
    },
  },
];

describe('garbage on the tunnel', () => {
  it.each(frameCases)('$name → error frame $code, close 1008', async (c) => {
    const tunnel = await h.connectHost(web01);
    const from = tunnel.frames.length;
    c.send(tunnel.ws);
    const error = await tunnel.next((f) => f.type === 'error', { from });
    expect(error['code']).toBe(c.code);
    expect(error['message']).toMatch(c.message);
    const closed = await tunnel.waitClosed();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toBe(c.code);

    // the CP keeps serving, stored nothing, and the host may come back
    expect((await h.request('GET', '/v1/health', { token: null })).body).toEqual({ ok: true, version: 'test' });
    expect((await h.admin.findings()).findings).toHaveLength(1);
    expect((await h.admin.findingsSummary()).total).toBe(1);
    const again = await h.connectHost(web01);
    await sendEvents(again, asTicks([record(runId(), 1, { type: 'text', text: 'still here' })]));
  });
});

interface ApiCase {
  name: string;
  method: string;
  path: string;
  json?: unknown;
  raw?: string;
  status: number;
  code: string;
  message?: RegExp;
}

const apiCases: ApiCase[] = [
  { name: 'invalid JSON body', method: 'POST', path: '/v1/tokens', raw: '{"kind": "join",', status: 400, code: 'OKS_ERR_BAD_REQUEST', message: /not valid JSON/ },
  { name: 'a wrong field type in a run', method: 'POST', path: '/v1/runs', json: { agent: 5, host: 'web-01' }, status: 400, code: 'OKS_ERR_BAD_REQUEST', message: /agent:/ },
  { name: 'a wrong field type in a token', method: 'POST', path: '/v1/tokens', json: { kind: 'join', ttl_ms: 'soon' }, status: 400, code: 'OKS_ERR_BAD_REQUEST', message: /ttl_ms:/ },
  { name: 'an unknown token kind', method: 'POST', path: '/v1/tokens', json: { kind: 'root' }, status: 400, code: 'OKS_ERR_BAD_REQUEST', message: /kind/ },
  { name: 'a bad hostname in a registration', method: 'POST', path: '/v1/register', json: { token: 'x', csr: 'y', hostname: 'no spaces!' }, status: 400, code: 'OKS_ERR_BAD_REQUEST', message: /hostname:/ },
  { name: 'an unknown severity in a findings query', method: 'GET', path: '/v1/findings?severity=apocalyptic', status: 400, code: 'OKS_ERR_BAD_REQUEST', message: /severity/ },
  { name: 'an unknown severity in a summary query', method: 'GET', path: '/v1/findings/summary?severity=apocalyptic', status: 400, code: 'OKS_ERR_BAD_REQUEST', message: /severity/ },
  { name: 'a non-numeric wait_ms', method: 'GET', path: `/v1/runs/${runId()}/events?wait_ms=soon`, status: 400, code: 'OKS_ERR_BAD_REQUEST', message: /wait_ms/ },
  { name: 'a body over 1 MiB', method: 'POST', path: '/v1/tokens', raw: `{"kind":"join","name":"${'n'.repeat(LIMITS.requestBodyBytes)}"}`, status: 413, code: 'OKS_ERR_PAYLOAD_TOO_LARGE', message: /1048576 bytes/ },
  { name: 'an unknown path', method: 'GET', path: '/v1/nothing-here', status: 404, code: 'OKS_ERR_NOT_FOUND', message: /\/v1\/nothing-here/ },
  { name: 'a known path with the wrong method', method: 'PUT', path: '/v1/hosts', status: 404, code: 'OKS_ERR_NOT_FOUND', message: /PUT not allowed/ },
  { name: 'an unknown run', method: 'GET', path: `/v1/runs/${runId()}`, status: 404, code: 'OKS_ERR_NOT_FOUND' },
];

describe('garbage on the API', () => {
  it.each(apiCases)('$name → $status $code', async (c) => {
    const before = (await h.admin.listTokens()).length;
    const answer = await h.request(c.method, c.path, { json: c.json, raw: c.raw });
    expect(answer.status).toBe(c.status);
    expect(errorCode(answer.body)).toBe(c.code);
    if (c.message) expect(errorMessage(answer.body)).toMatch(c.message);
    expect((await h.admin.listTokens()).length).toBe(before);
    expect((await h.request('GET', '/v1/health', { token: null })).status).toBe(200);
  });

  const streamCases: { name: string; query: Record<string, string | number>; message: RegExp }[] = [
    { name: 'a negative after', query: { after: -1 }, message: /after/ },
    { name: 'a non-numeric after', query: { after: 'yesterday' }, message: /after/ },
    { name: 'an unknown kind', query: { kinds: 'finding,gossip' }, message: /kinds/ },
    { name: 'an unknown severity', query: { severity: 'apocalyptic' }, message: /severity/ },
  ];
  it.each(streamCases)('refuses a stream with $name', async (c) => {
    const result = await h.openStream(c.query);
    if (result.ok) throw new Error('stream accepted');
    expect(result.refusal.status).toBe(400);
    expect(errorCode(result.refusal.body)).toBe('OKS_ERR_BAD_REQUEST');
    expect(errorMessage(result.refusal.body)).toMatch(c.message);
  });

  it('refuses a WebSocket upgrade on an unknown path with 404', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${h.port}/v1/elsewhere`, { ca: h.caPem });
    const socket = new TestSocket(ws);
    const status = await new Promise<number>((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
      });
      ws.on('open', () => reject(new Error('upgrade accepted')));
      ws.on('error', () => undefined);
    });
    socket.terminate();
    expect(status).toBe(404);
  });
});
