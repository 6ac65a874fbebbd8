import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import { formatToken } from '../../src/protocol/tokens.js';
import { errorCode, waitFor, type CpHarness } from './cp-harness.js';
import { captureLog, startCustomCp } from './cp-custom.js';

// Loopback is all of 127.0.0.0/8 on Linux: a client bound to 127.0.0.2 is a different source address to the CP, so
// a flood from one address and a real client from another both run for real on this machine.
const FLOODER = '127.0.0.2';
const OTHER_FLOODER = '127.0.0.3';

let h: CpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** One HTTPS request from `localAddress` on a fresh connection. */
function call(port: number, ca: string, o: { method: string; path: string; from: string; token?: string; json?: unknown }): Promise<Answer> {
  const payload = o.json === undefined ? undefined : JSON.stringify(o.json);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1', port, path: o.path, method: o.method, ca, agent: false, localAddress: o.from,
        headers: { ...(o.token && { authorization: `Bearer ${o.token}` }), ...(payload && { 'content-type': 'application/json' }) },
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A WebSocket upgrade from `localAddress`: the status it was answered with (101 when accepted) and its headers. */
function upgrade(port: number, ca: string, path: string, from: string, token: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, { ca, localAddress: from, headers: { authorization: `Bearer ${token}` } });
    ws.on('open', () => {
      ws.terminate();
      resolve({ status: 101, headers: {} });
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    ws.on('error', (err) => reject(err));
  });
}

describe('failed authentication limiting', () => {
  it('answers a flood of bad registrations with 429 + Retry-After after the burst, while other clients go on', async () => {
    const { log, lines, text } = captureLog();
    h = await startCustomCp({ authLimit: { burst: 5, refillPerS: 0.01 } }, { log });
    const cp = h;
    // A well-formed join token of this CP that was never issued: its secret must appear in no log line.
    const join = await cp.mintJoin();
    const pin = join.token.split('_')[3] as string;
    const secret = 'ab'.repeat(32);
    const forged = formatToken({ kind: 'join', id: '0123456789abcdef', secret, pin });
    const { csrPem } = await generateHostKeyAndCsr('evil-01');
    const bad = { token: forged, csr: csrPem, hostname: 'evil-01', os: 'linux', arch: 'x64', version: 'x' };

    const flood: (Answer | 'closed')[] = [];
    for (let i = 0; i < 11; i++) flood.push(await call(cp.port, cp.caPem, { method: 'POST', path: '/v1/register', from: FLOODER, json: bad }).catch(() => 'closed' as const));

    const outcomes = flood.map((a) => (a === 'closed' ? a : `${a.status} ${String(errorCode(a.body))}`));
    // The burst fails as such, then 429s (each costing budget too), then, once about as many 429s were ignored (4 or
    // 5, as the budget refills meanwhile), the connection is closed at accept: no TLS handshake for such an address.
    const limitedN = outcomes.filter((o) => o === '429 OKS_ERR_RATE_LIMITED').length;
    expect(limitedN === 4 || limitedN === 5).toBe(true);
    expect(outcomes).toEqual([...Array(5).fill('401 OKS_ERR_TOKEN_INVALID'), ...Array(limitedN).fill('429 OKS_ERR_RATE_LIMITED'), ...Array(6 - limitedN).fill('closed')]);
    for (const a of flood.slice(5, 5 + limitedN) as Answer[]) {
      expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(100);
      expect(Number(a.headers['retry-after'])).toBeLessThanOrEqual(600);
    }
    // Even a valid attempt from the flooding address waits its turn.
    await expect(call(cp.port, cp.caPem, { method: 'GET', path: '/v1/whoami', from: FLOODER, token: cp.adminConfig.token })).rejects.toThrow();

    // Everyone else is served: a registration, its tunnel, an API call and a stream, all from 127.0.0.1.
    const web01 = await cp.registerHost('web-01', { token: join.token });
    await cp.connectHost(web01);
    expect((await call(cp.port, cp.caPem, { method: 'GET', path: '/v1/hosts', from: '127.0.0.1', token: cp.adminConfig.token })).status).toBe(200);
    expect((await upgrade(cp.port, cp.caPem, '/v1/stream', '127.0.0.1', cp.adminConfig.token)).status).toBe(101);

    expect(cp.cp.authFailures()).toEqual({
      failures: { operator: {}, register: { OKS_ERR_TOKEN_INVALID: 5 }, tunnel: {} },
      limited: { operator: 0, register: limitedN, tunnel: 0 },
      dropped: 7 - limitedN,
      addresses: 1,
    });
    const failed = lines.filter((l) => l['msg'] === 'authentication failed');
    expect(failed).toHaveLength(5);
    expect(failed[0]).toMatchObject({ kind: 'register', remote: FLOODER, code: 'OKS_ERR_TOKEN_INVALID' });
    expect(lines.filter((l) => String(l['msg']).startsWith('too many failed authentications'))).toHaveLength(1);
    expect(text()).not.toContain(secret);
  });

  it('limits bad operator tokens on the API and the stream, and refused tunnels, each from its own address', async () => {
    const { log, text } = captureLog();
    h = await startCustomCp({ authLimit: { burst: 3, refillPerS: 0.01 } }, { log });
    const cp = h;
    const guess = formatToken({ kind: 'operator', id: 'fedcba9876543210', secret: 'cd'.repeat(32) });

    const api = [];
    for (let i = 0; i < 3; i++) api.push((await call(cp.port, cp.caPem, { method: 'GET', path: '/v1/hosts', from: FLOODER, token: guess })).status);
    expect(api).toEqual([401, 401, 401]);
    const streamRefusal = await upgrade(cp.port, cp.caPem, '/v1/stream', FLOODER, guess);
    expect(streamRefusal.status).toBe(429);
    expect(Number(streamRefusal.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    // A tunnel without a client certificate, three times, then refused before it is even looked at.
    const web01 = await cp.registerHost('web-01');
    const tunnels = [];
    for (let i = 0; i < 4; i++) tunnels.push((await upgrade(cp.port, cp.caPem, '/v1/tunnel', OTHER_FLOODER, web01.credential)).status);
    expect(tunnels).toEqual([401, 401, 401, 429]);
    // The real host on its own address is unaffected.
    await cp.connectHost(web01);

    await waitFor(() => cp.cp.authFailures().limited.tunnel === 1, 2000, 'the counters');
    expect(cp.cp.authFailures()).toMatchObject({
      failures: { operator: { OKS_ERR_TOKEN_INVALID: 3 }, tunnel: { OKS_ERR_CLIENT_CERT_REQUIRED: 3 } },
      limited: { operator: 1, tunnel: 1 },
      addresses: 2,
    });
    expect(text()).not.toContain('cd'.repeat(32));
    expect(text()).not.toContain(web01.credential.split('_')[2]);
  });
});
