import { once } from 'node:events';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type Server } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueServerCertificate, type CaMaterial } from '../../src/pki/ca.js';
import { signHostCsr } from '../../src/pki/host-cert.js';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import { startHaproxy, type TestHaproxy } from './haproxy.js';

interface Pki {
  ca: CaMaterial;
  server: { certPem: string; keyPem: string };
  client: { certPem: string; keyPem: string };
}

async function makePki(): Promise<Pki> {
  const ca = await createCertificateAuthority({ commonName: 'okesu test CA' });
  const server = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const { keyPem, csrPem } = await generateHostKeyAndCsr('web-1');
  const { certPem } = await signHostCsr(ca, csrPem, 'web-1');
  return { ca, server, client: { certPem, keyPem } };
}

/** A TLS server requiring a client certificate from the CA; it answers each connection with its name and the client's CN. */
async function backend(pki: Pki, name: string, port = 0): Promise<Server> {
  const srv = createTlsServer({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true }, (s) => {
    s.end(JSON.stringify({ backend: name, client: s.getPeerCertificate().subject?.CN }));
  });
  srv.on('tlsClientError', () => {}); // health checks connect and close without a handshake
  srv.listen(port, '127.0.0.1');
  await once(srv, 'listening');
  return srv;
}

/** Connects through the balancer with the client certificate and reads the backend's answer. */
async function ask(port: number, pki: Pki): Promise<{ backend: string; client: string }> {
  const s = tlsConnect({ port, host: '127.0.0.1', ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem, servername: 'localhost' });
  let out = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => (out += d));
  await once(s, 'end');
  s.destroy();
  return JSON.parse(out) as { backend: string; client: string };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Resolves once `cond()` holds, checked every 20 ms (10 s at most). */
async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function closeServer(srv: Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

describe('test HAProxy (TCP mode)', () => {
  it('passes mutual TLS through, spreads connections over the backends, skips a stopped one and a disabled one', async () => {
    const pki = await makePki();
    const b0 = await backend(pki, 'b0');
    let b1 = await backend(pki, 'b1');
    const b1Port = (b1.address() as AddressInfo).port;
    cleanups.push(() => closeServer(b0), () => closeServer(b1));
    const lb: TestHaproxy = await startHaproxy({
      backends: [b0, b1].map((s) => ({ host: '127.0.0.1', port: (s.address() as AddressInfo).port })),
    });
    cleanups.push(() => lb.stop());
    await lb.waitForStatus(0, 'UP');
    await lb.waitForStatus(1, 'UP');

    const spread = [];
    for (let i = 0; i < 4; i++) spread.push(await ask(lb.port, pki));
    expect(spread.map((a) => a.client)).toEqual(['web-1', 'web-1', 'web-1', 'web-1']);
    expect(spread.map((a) => a.backend).sort()).toEqual(['b0', 'b0', 'b1', 'b1']);

    await closeServer(b1);
    await lb.waitForStatus(1, 'DOWN');
    const afterStop = [];
    for (let i = 0; i < 4; i++) afterStop.push((await ask(lb.port, pki)).backend);
    expect(afterStop).toEqual(['b0', 'b0', 'b0', 'b0']);

    b1 = await backend(pki, 'b1', b1Port);
    await lb.waitForStatus(1, 'UP');
    await lb.disableBackend(0);
    await lb.waitForStatus(0, 'MAINT');
    const afterDisable = [];
    for (let i = 0; i < 3; i++) afterDisable.push((await ask(lb.port, pki)).backend);
    expect(afterDisable).toEqual(['b1', 'b1', 'b1']);
    await lb.enableBackend(0);
    await lb.waitForStatus(0, 'UP');
  });

  it('balances by least connections when asked: connections held on one backend keep new ones off it', async () => {
    // Plain TCP servers that name themselves and keep the connection open until the client closes it.
    const servers = await Promise.all(['b0', 'b1'].map(async (name) => {
      const srv = createNetServer((s) => {
        s.on('error', () => {});
        s.write(name);
      });
      srv.listen(0, '127.0.0.1');
      await once(srv, 'listening');
      return srv;
    }));
    cleanups.push(...servers.map((s) => () => new Promise<void>((resolve) => s.close(() => resolve()))));
    const lb = await startHaproxy({ backends: servers.map((s) => ({ host: '127.0.0.1', port: (s.address() as AddressInfo).port })), balance: 'leastconn' });
    cleanups.push(() => lb.stop());
    const open = async (): Promise<{ name: string; socket: Socket }> => {
      const socket = netConnect(lb.port, '127.0.0.1');
      socket.on('error', () => {});
      const [data] = (await once(socket, 'data')) as [Buffer];
      return { name: data.toString(), socket };
    };
    await lb.waitForStatus(1, 'UP');
    // Two connections held on b0 (b1 in maintenance while they open), then short ones all go to b1.
    await lb.disableBackend(1);
    const held = [await open(), await open()];
    expect(held.map((h) => h.name)).toEqual(['b0', 'b0']);
    await lb.enableBackend(1);
    await lb.waitForStatus(1, 'UP');
    const others = [];
    for (let i = 0; i < 3; i++) {
      const c = await open();
      others.push(c.name);
      c.socket.destroy();
      // Until HAProxy has let go of it, the short connection still counts against its backend.
      await waitFor(async () => (await lb.sessions())[1] === 0);
    }
    for (const h of held) h.socket.destroy();
    expect(others).toEqual(['b1', 'b1', 'b1']);
  });
});
