import { X509Certificate } from 'node:crypto';
import type { ClientRequestArgs, IncomingMessage } from 'node:http';
import tls from 'node:tls';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createTunnelClient, type TunnelClient } from '../../daimon/tunnel-client.js';
import { startCp, waitFor, type CpHarness, type HostIdentity } from './cp-harness.js';
import { captureJson as capture, freePort } from './tls-helpers.js';

/** Opens a tunnel as `id`, offering `session`; resolves with the outcome, whether TLS resumed, and the session tickets received. */
function rawTunnel(h: CpHarness, id: HostIdentity, session?: Buffer): Promise<{ status: number; resumed: boolean; tickets: Buffer[]; ws: WebSocket; body: string }> {
  const tickets: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${h.port}/v1/tunnel`, {
      key: id.key, cert: id.cert, ca: id.ca, headers: { authorization: `Bearer ${id.credential}` }, ...(session && { session }),
      createConnection: (o: ClientRequestArgs) => {
        const s = tls.connect({ ...(o as tls.ConnectionOptions), path: undefined, servername: '' });
        s.on('session', (t: Buffer) => tickets.push(t));
        return s;
      },
    });
    ws.on('upgrade', (res: IncomingMessage) => {
      const resumed = (res.socket as tls.TLSSocket).isSessionReused();
      ws.once('message', () => resolve({ status: 101, resumed, tickets, ws, body: '' }));
    });
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      const resumed = (res.socket as tls.TLSSocket).isSessionReused();
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, resumed, tickets, ws, body });
        ws.terminate();
      });
    });
    ws.on('error', reject);
  });
}

let h: CpHarness | undefined;
let client: TunnelClient | undefined;
afterEach(async () => {
  await client?.stop();
  client = undefined;
  await h?.close();
  h = undefined;
});

describe('TLS session resumption of daimon tunnels', () => {
  it('a real daimon tunnel resumes its session after a CP restart and is still authenticated as its host', async () => {
    const cpLog = capture();
    h = await startCp({ options: { port: await freePort() }, log: cpLog.log });
    const id = await h.registerHost('web-01');
    const daimonLog = capture();
    let ups = 0;
    client = createTunnelClient(
      {
        identity: { cp: h.url, certPem: id.cert, keyPem: id.key, caPem: id.ca, credential: id.credential },
        version: 'test', os: 'linux', arch: 'x64', labels: {}, status: () => ({ running: [], spoolDepth: 0 }), backoffBaseMs: 20, backoffCapMs: 100,
      },
      { log: daimonLog.log },
    );
    client.start({ onDispatch: () => undefined, onCancel: () => undefined, onAck: () => undefined, onUp: () => ups++, onDown: () => undefined, onFatal: () => undefined });
    await waitFor(() => ups === 1, 5000, 'the first tunnel');
    // The ticket arrives just after the handshake; the restart must come after it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await waitFor(() => daimonLog.lines().some((l) => l['msg'] === 'tunnel up'), 5000, 'the daimon to log its tunnel');
    await h.restart();
    await waitFor(() => ups === 2, 10_000, 'the tunnel to come back');
    const ups2 = daimonLog.lines().filter((l) => l['msg'] === 'tunnel up');
    expect(ups2.map((l) => l['resumed'])).toEqual([false, true]);
    const host = (await h.admin.hosts()).find((x) => x.hostname === 'web-01');
    expect(host?.connected).toBe(true);
    // At the CP: the second tunnel resumed (isSessionReused) and authenticated as the same host and certificate.
    const cpUps = cpLog.lines().filter((l) => l['msg'] === 'tunnel up');
    expect(cpUps.map((l) => [l['host'], l['resumed']])).toEqual([['web-01', false], ['web-01', true]]);
    expect(cpUps[1]?.['serial']).toBe(cpUps[0]?.['serial']);
  });

  it('resumes at the CP with the client certificate intact, and refuses a revoked host even on a resumed session', async () => {
    h = await startCp();
    const id = await h.registerHost('web-01');
    const first = await rawTunnel(h, id);
    expect(first.status).toBe(101);
    expect(first.resumed).toBe(false);
    await waitFor(() => first.tickets.length > 0, 5000, 'a session ticket');
    first.ws.close();
    const second = await rawTunnel(h, id, first.tickets[first.tickets.length - 1]);
    expect(second).toMatchObject({ status: 101, resumed: true });
    // A resumed TLS 1.3 session may come without a new ticket: the daimon keeps offering the one it has.
    const ticket = second.tickets[second.tickets.length - 1] ?? first.tickets[first.tickets.length - 1];
    second.ws.close();
    await h.admin.removeHost('web-01');
    const third = await rawTunnel(h, id, ticket);
    expect(third).toMatchObject({ status: 403, resumed: true });
  });

  it('refuses a resumed session whose certificate has expired since (OpenSSL does not check it again)', async () => {
    h = await startCp({ options: { hostCertTtlMs: 3000 } });
    const id = await h.registerHost('web-01');
    const first = await rawTunnel(h, id);
    expect(first.status).toBe(101);
    await waitFor(() => first.tickets.length > 0, 5000, 'a session ticket');
    first.ws.close();
    const notAfter = Date.parse(new X509Certificate(id.cert).validTo);
    await waitFor(() => Date.now() > notAfter + 100, 10_000, 'the certificate to expire');
    const again = await rawTunnel(h, id, first.tickets[first.tickets.length - 1]);
    expect(again).toMatchObject({ status: 401, resumed: true });
    expect(again.body).toMatch(/OKS_ERR_CLIENT_CERT_UNTRUSTED.*expired.*register again/);
  });
});
