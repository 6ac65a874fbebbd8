import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStream } from '../../src/transport/stream-client.js';
import type { StreamHandle, StreamState } from '../../src/transport/stream-client.js';
import type { StreamMessage } from '../../src/protocol/api.js';
import type { ClientConfig } from '../../src/protocol/client-config.js';
import { TOKEN, testPki } from './helpers.js';
import { FakeStreamServer, findingMsg, send } from './fake-stream-server.js';
import type { Reject, Script } from './fake-stream-server.js';

describe('openStream', () => {
  let pki: { ca: string; cert: string; key: string };
  let server: FakeStreamServer;
  let handle: StreamHandle | undefined;
  let messages: StreamMessage[];
  let states: { state: StreamState; detail?: string }[];

  beforeAll(async () => {
    pki = await testPki();
  });

  afterEach(async () => {
    handle?.close();
    handle = undefined;
    await server.stop().catch(() => undefined);
  });

  async function start(scripts: (Script | Reject)[]): Promise<ClientConfig> {
    server = new FakeStreamServer(pki);
    server.scripts = scripts;
    await server.listen();
    messages = [];
    states = [];
    return { cp: `https://127.0.0.1:${server.port}`, ca: pki.ca, token: TOKEN, name: '' };
  }

  const open = (config: ClientConfig, extra: Partial<Parameters<typeof openStream>[1]> = {}): StreamHandle =>
    (handle = openStream(config, {
      backoff: { minMs: 10, maxMs: 50 },
      onMessage: (m) => messages.push(m),
      onState: (state, detail) => states.push({ state, detail }),
      ...extra,
    }));
  const findingIds = (): number[] => messages.flatMap((m) => (m.type === 'finding' ? [m.finding.id] : []));
  const details = (): string[] => states.flatMap((s) => (s.detail ? [s.detail] : []));

  it('reconnects after a drop with after=<last cursor>, delivering each message once and rejecting bad frames', async () => {
    const config = await start([
      (ws) => {
        send(ws, { type: 'ready', cursor: 10 });
        send(ws, findingMsg(11));
        send(ws, findingMsg(12));
        send(ws, 'this is not json');
        send(ws, { type: 'finding', cursor: 13 });
        ws.send(JSON.stringify(findingMsg(13)), () => ws.terminate());
      },
      (ws) => {
        send(ws, { type: 'ready', cursor: 13 });
        send(ws, findingMsg(13)); // a repeat the client must drop
        send(ws, findingMsg(14));
      },
    ]);
    open(config, { kinds: ['finding'], filter: { severity: 'HIGH', host: 'web-01' } });
    await vi.waitFor(() => expect(findingIds()).toContain(14), { timeout: 10_000 });

    expect(findingIds()).toEqual([11, 12, 13, 14]);
    expect(handle?.cursor()).toBe(14);
    expect(server.upgrades).toHaveLength(2);
    const [first, second] = server.upgrades as [URL, URL];
    expect(first.pathname).toBe('/v1/stream');
    expect(first.searchParams.get('after')).toBeNull();
    expect(first.searchParams.get('kinds')).toBe('finding');
    expect(first.searchParams.get('severity')).toBe('HIGH');
    expect(first.searchParams.get('host')).toBe('web-01');
    expect(second.searchParams.get('after')).toBe('13');
    expect(server.authorization).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(details().filter((d) => d.startsWith('OKS_ERR_BAD_FRAME'))).toHaveLength(2);
    expect(states.filter((s) => s.state === 'open' && !s.detail)).toHaveLength(2);

    handle?.close();
    expect(states.at(-1)).toEqual({ state: 'closed', detail: undefined });
  });

  it('survives a CP restart: retries while refused, then resumes from the last cursor', async () => {
    const config = await start([
      (ws) => {
        send(ws, { type: 'ready', cursor: 5 });
        send(ws, findingMsg(6));
      },
      (ws) => {
        send(ws, { type: 'ready', cursor: 6 });
        send(ws, findingMsg(7));
      },
    ]);
    open(config, { after: 4 });
    await vi.waitFor(() => expect(findingIds()).toEqual([6]), { timeout: 10_000 });
    await server.stop();
    await vi.waitFor(() => expect(details().some((d) => d.includes('ECONNREFUSED'))).toBe(true), { timeout: 10_000 });
    await server.restart();
    await vi.waitFor(() => expect(findingIds()).toEqual([6, 7]), { timeout: 10_000 });

    expect(server.upgrades.map((u) => u.searchParams.get('after'))).toEqual(['4', '6']);
  });

  it('continues from the head after OKS_ERR_STREAM_GAP', async () => {
    const config = await start([
      (ws) => {
        send(ws, { type: 'error', code: 'OKS_ERR_STREAM_GAP', message: 'resume point is older than the retained feed' });
        ws.close(1000);
      },
      (ws) => {
        send(ws, { type: 'ready', cursor: 100 });
        send(ws, findingMsg(101));
      },
    ]);
    open(config, { after: 3 });
    await vi.waitFor(() => expect(findingIds()).toEqual([101]), { timeout: 10_000 });

    expect(details().some((d) => d.startsWith('OKS_ERR_STREAM_GAP') && d.includes('head'))).toBe(true);
    expect(server.upgrades.map((u) => u.searchParams.get('after'))).toEqual(['3', null]);
  });

  it('stops for good when the upgrade is refused with 401', async () => {
    const config = await start([{ status: 401, body: { error: { code: 'OKS_ERR_TOKEN_REVOKED', message: 'token was revoked' } } }]);
    open(config);
    await vi.waitFor(() => expect(states.at(-1)?.state).toBe('closed'), { timeout: 10_000 });

    expect(states.at(-1)?.detail).toBe('OKS_ERR_TOKEN_REVOKED: token was revoked');
    // Proving that nothing happens takes a wait: ten times the largest backoff.
    await sleep(500);
    expect(server.upgrades).toHaveLength(1);
    expect(states.filter((s) => s.state === 'closed')).toHaveLength(1);
  });

  it('stops for good, saying why, when the CP closes the stream with 4401 (token revoked or expired while connected)', async () => {
    const config = await start([
      (ws) => {
        send(ws, { type: 'ready', cursor: 5 });
        ws.close(4401, 'OKS_ERR_TOKEN_EXPIRED');
      },
      (ws) => send(ws, { type: 'ready', cursor: 5 }),
    ]);
    open(config);
    await vi.waitFor(() => expect(states.at(-1)?.state).toBe('closed'), { timeout: 10_000 });

    expect(states.at(-1)?.detail).toMatch(/^OKS_ERR_TOKEN_EXPIRED: .*token is no longer valid/);
    // The close handler stops without arming a retry, so no second upgrade can follow.
    expect(server.upgrades).toHaveLength(1);
    expect(states.filter((s) => s.state === 'connecting')).toHaveLength(1);
  });

  it('retries after a non-auth HTTP refusal', async () => {
    const config = await start([
      { status: 503, body: { error: { code: 'OKS_ERR_INTERNAL', message: 'internal error: starting up' } } },
      (ws) => send(ws, { type: 'ready', cursor: 1 }),
    ]);
    open(config);
    await vi.waitFor(() => expect(messages).toEqual([{ type: 'ready', cursor: 1 }]), { timeout: 10_000 });

    expect(details().some((d) => d.includes('HTTP 503') && d.includes('OKS_ERR_INTERNAL'))).toBe(true);
  });

  it('does not trust a CP whose certificate is not from the configured CA', async () => {
    const config = await start([(ws) => send(ws, { type: 'ready', cursor: 1 })]);
    const other = await testPki();
    open({ ...config, ca: other.ca });
    await vi.waitFor(() => expect(details().some((d) => /certificate/i.test(d))).toBe(true), { timeout: 10_000 });

    expect(messages).toEqual([]);
  });
});
