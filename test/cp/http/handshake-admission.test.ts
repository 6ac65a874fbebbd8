import https from 'node:https';
import tls from 'node:tls';
import net, { type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueServerCertificate } from '../../../src/pki/ca.js';
import { createHandshakeAdmission, takeTlsConnectionListener, type HandshakeAdmission } from '../../../src/cp/http/handshake-admission.js';

interface Gated {
  port: number;
  ca: string;
  admission: HandshakeAdmission;
  close(): Promise<void>;
}

/** A real HTTPS server answering `ok`, its connections through the admission gate (as the CP's port). */
async function gatedServer(opts: { maxResuming: number; maxWaiting: number }): Promise<Gated> {
  const ca = await createCertificateAuthority({ commonName: 'test ca' });
  const server = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const srv = https.createServer({ key: server.keyPem, cert: server.certPem }, (_req, res) => res.end('ok'));
  const admission = createHandshakeAdmission(opts);
  const startTls = takeTlsConnectionListener(srv);
  srv.on('connection', (socket: Socket) => admission.admit(socket, startTls));
  srv.on('secureConnection', (t: tls.TLSSocket) => admission.secured(t));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port, ca: ca.certPem, admission,
    close: () => {
      admission.close();
      const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
      srv.closeAllConnections();
      return closed;
    },
  };
}

/** Opens a TLS connection (offering `session`); resolves once it is secure, with the socket and its first ticket. */
function connect(g: Gated, session?: Buffer): Promise<{ socket: tls.TLSSocket; ticket: Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: g.port, ca: g.ca, servername: '', ...(session && { session }) });
    const ticket = new Promise<Buffer>((got) => socket.once('session', got));
    socket.once('secureConnect', () => resolve({ socket, ticket }));
    socket.once('error', reject);
  });
}

/** GET / on a new connection, as an `okesu` command. */
function get(g: Gated): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: g.port, ca: g.ca, agent: false, path: '/' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/**
 * A raw TCP connection that sends the ClientHello a TLS client offering `session` sends (recorded from one), then
 * nothing: its handshake stays in progress on the server until it is closed.
 */
async function stuckResuming(g: Gated, session: Buffer): Promise<net.Socket> {
  const recorder = net.createServer();
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const hello = new Promise<Buffer>((resolve) => recorder.once('connection', (s: Socket) => s.once('data', (c: Buffer) => (resolve(c), s.destroy()))));
  const client = tls.connect({ host: '127.0.0.1', port: (recorder.address() as AddressInfo).port, ca: g.ca, servername: '', session });
  client.on('error', () => undefined);
  const bytes = await hello;
  recorder.close();
  const raw = net.connect({ host: '127.0.0.1', port: g.port });
  raw.on('error', () => undefined);
  raw.write(bytes);
  return raw;
}

let g: Gated | undefined;
afterEach(async () => {
  await g?.close();
  g = undefined;
});

describe('handshake admission', () => {
  it('keeps resuming handshakes beyond the limit waiting while a new connection is answered, then lets them in', async () => {
    g = await gatedServer({ maxResuming: 1, maxWaiting: 10 });
    const first = await connect(g);
    const session = await first.ticket;
    first.socket.destroy();
    // The slot is taken by a raw connection that sends a resuming ClientHello and never finishes its handshake.
    const stuck = await stuckResuming(g, session);
    await expect.poll(() => g?.admission.snapshot().resuming).toBe(1);
    const waitingOne = connect(g, session);
    await expect.poll(() => g?.admission.snapshot().waiting).toBe(1);
    // A connection with no session to resume (an operator's) is not queued behind them.
    expect(await get(g)).toBe('ok');
    expect(g.admission.snapshot()).toMatchObject({ resuming: 1, waiting: 1, deferred: 1 });
    stuck.destroy();
    const second = await waitingOne;
    expect(second.socket.isSessionReused()).toBe(true);
    second.socket.destroy();
    await expect.poll(() => g?.admission.snapshot().resuming).toBe(0);
  });

  it('closes a resuming connection at once when too many wait; a completed handshake frees its slot', async () => {
    g = await gatedServer({ maxResuming: 1, maxWaiting: 0 });
    const first = await connect(g);
    const session = await first.ticket;
    // `first` completed: its slot is free although the connection stays open.
    const resumed = await connect(g, session);
    expect(resumed.socket.isSessionReused()).toBe(true);
    const stuck = await stuckResuming(g, session);
    await expect.poll(() => g?.admission.snapshot().resuming).toBe(1);
    await expect(connect(g, session)).rejects.toThrow();
    expect(g.admission.snapshot().refused).toBe(1);
    first.socket.destroy();
    resumed.socket.destroy();
    stuck.destroy();
  });
});
