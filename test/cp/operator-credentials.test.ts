import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../daimon/scheduler/clock.js';
import { openStream, type StreamState } from '../../src/transport/stream-client.js';
import type { StreamMessage } from '../../src/protocol/api.js';
import { errorCode, errorMessage, startCp, waitFor, type CpHarness, type OpenResult, type TestSocket } from './cp-harness.js';
import { startCustomCp } from './cp-custom.js';

let h: CpHarness | undefined;

/** The socket of a stream that must be accepted. */
async function accepted(result: Promise<OpenResult>): Promise<TestSocket> {
  const r = await result;
  if (!r.ok) throw new Error(`stream refused: ${JSON.stringify(r.refusal)}`);
  return r.socket;
}
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('revoking an operator token', () => {
  it('closes every open stream of that token at once with 4401 and an error message, and leaves other tokens connected', async () => {
    h = await startCp();
    const viewer = await h.mintOperator('viewer');
    const [a, b, admin] = await Promise.all([h.openStream({}, viewer.token), h.openStream({}, viewer.token), h.openStream()].map(accepted));
    await Promise.all([a, b, admin].map((s) => s.nextOfType('ready')));

    const t0 = Date.now();
    await h.admin.revokeToken(viewer.view.id);
    const closes = await Promise.all([a.waitClosed(5000), b.waitClosed(5000)]);
    const elapsed = Date.now() - t0;

    for (const [i, s] of [a, b].entries()) {
      expect(closes[i]).toEqual({ code: 4401, reason: 'OKS_ERR_TOKEN_REVOKED' });
      expect(s.ofType('error')).toEqual([{ type: 'error', code: 'OKS_ERR_TOKEN_REVOKED', message: 'token was revoked' }]);
    }
    // Well inside the 30 s ping sweep that used to be the only thing that could end such a socket.
    expect(elapsed).toBeLessThan(5000);
    expect(admin.isOpen()).toBe(true);
    expect(h.cp.operatorConnections()).toBe(1);
  });

  it('ends a long poll of that token with 401 OKS_ERR_TOKEN_REVOKED instead of letting it run its wait out', async () => {
    h = await startCp();
    const web01 = await h.registerHost('web-01');
    await h.connectHost(web01);
    const run = await h.admin.createRun({ agent: 'edr', host: 'web-01' });
    const viewer = await h.mintOperator('viewer');

    const t0 = Date.now();
    const poll = h.request('GET', `/v1/runs/${run.run_id}/events?wait_ms=30000`, { token: viewer.token });
    await waitFor(() => h?.cp.operatorConnections() === 1, 5000, 'the long poll to be waiting');
    await h.admin.revokeToken(viewer.view.id);
    const answer = await poll;

    expect(answer.status).toBe(401);
    expect(errorCode(answer.body)).toBe('OKS_ERR_TOKEN_REVOKED');
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(h.cp.operatorConnections()).toBe(0);
  });

  it('makes the stream client (okesu tail, the console) stop with a clear error instead of reconnecting', async () => {
    h = await startCp();
    const viewer = await h.mintOperator('viewer');
    const states: { state: StreamState; detail?: string }[] = [];
    const messages: StreamMessage[] = [];
    const stream = openStream({ ...h.adminConfig, token: viewer.token }, {
      backoff: { minMs: 10, maxMs: 50 },
      onMessage: (m) => messages.push(m),
      onState: (state, detail) => states.push({ state, detail }),
    });
    try {
      await waitFor(() => messages.some((m) => m.type === 'ready'), 5000, 'the stream to be ready');
      await h.admin.revokeToken(viewer.view.id);
      await waitFor(() => states.at(-1)?.state === 'closed', 5000, 'the client to stop');

      expect(states.at(-1)?.detail).toMatch(/^OKS_ERR_TOKEN_REVOKED: token was revoked/);
      expect(states.filter((s) => s.state === 'connecting' && s.detail === undefined)).toHaveLength(1);
      // It did not try again: a reconnect with the revoked token would have been a counted failure.
      expect(h.cp.authFailures().failures.operator).toEqual({});
    } finally {
      stream.close();
    }
  });
});

describe('operator token lifetime (ttl_ms)', () => {
  it('expires a token at authentication and closes its open stream at the moment it expires', async () => {
    const clock = createManualClock(Date.now());
    h = await startCustomCp({ clock }, { now: () => clock.now() });
    const created = await h.admin.createToken({ kind: 'operator', role: 'viewer', name: 'grafana', ttl_ms: 60_000 });
    expect(created.view.expires_at).toBe(clock.now() + 60_000);
    const listed = (await h.admin.listTokens()).find((t) => t.id === created.view.id);
    expect(listed?.expires_at).toBe(clock.now() + 60_000);

    const socket = await accepted(h.openStream({}, created.token));
    await socket.nextOfType('ready');

    await clock.advance(59_999);
    expect((await h.request('GET', '/v1/whoami', { token: created.token })).status).toBe(200);
    expect(socket.isOpen()).toBe(true);

    await clock.advance(1);
    expect(await socket.waitClosed(5000)).toEqual({ code: 4401, reason: 'OKS_ERR_TOKEN_EXPIRED' });
    expect(socket.ofType('error')).toEqual([{ type: 'error', code: 'OKS_ERR_TOKEN_EXPIRED', message: 'token has expired' }]);
    const after = await h.request('GET', '/v1/whoami', { token: created.token });
    expect(after.status).toBe(401);
    expect(errorCode(after.body)).toBe('OKS_ERR_TOKEN_EXPIRED');
  });

  it('keeps a token without ttl_ms valid for good (expires_at null)', async () => {
    h = await startCp();
    const created = await h.mintOperator('operator');
    expect(created.view.expires_at).toBeNull();
  });
});

describe('token request bodies', () => {
  it.each([
    ['an operator token with a misspelt ttl', { kind: 'operator', role: 'viewer', ttl: 5000 }, /"ttl"/],
    ['a join token with an unknown field', { kind: 'join', uses: 2, scope: 'web' }, /"scope"/],
    ['an operator token with uses', { kind: 'operator', role: 'viewer', uses: 3 }, /"uses"/],
    ['a negative ttl', { kind: 'operator', role: 'viewer', ttl_ms: -1 }, /ttl_ms/],
  ])('refuses %s with 400 naming the field, and stores nothing', async (_name, body, field) => {
    h = await startCp();
    const before = (await h.admin.listTokens()).length;
    const answer = await h.request('POST', '/v1/tokens', { json: body });
    expect(answer.status).toBe(400);
    expect(errorCode(answer.body)).toBe('OKS_ERR_BAD_REQUEST');
    expect(errorMessage(answer.body)).toMatch(field);
    expect((await h.admin.listTokens()).length).toBe(before);
  });
});

describe('token views', () => {
  it('never carry the stored hash: create, list, revoke, audit and whoami answers', async () => {
    h = await startCp();
    const created = await h.request('POST', '/v1/tokens', { json: { kind: 'operator', role: 'viewer', ttl_ms: 3_600_000 } });
    const join = await h.request('POST', '/v1/tokens', { json: { kind: 'join' } });
    expect([created.status, join.status]).toEqual([201, 201]);
    const id = (created.body as { view: { id: string } }).view.id;
    const token = (created.body as { token: string }).token;
    const hashes = h.cp.store().tokens.list().map((t) => t.hash);
    expect(hashes.length).toBeGreaterThanOrEqual(3);

    const answers = [
      created, join,
      await h.request('GET', '/v1/tokens'),
      await h.request('GET', '/v1/whoami', { token }),
      await h.request('DELETE', `/v1/tokens/${id}`),
      await h.request('GET', '/v1/audit'),
    ];
    for (const answer of answers) {
      expect(answer.status).toBeLessThan(300);
      expect(answer.text).not.toMatch(/"hash"/);
      for (const hash of hashes) expect(answer.text).not.toContain(hash);
    }
  });
});
