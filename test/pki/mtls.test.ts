import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaMaterial, CertAndKey } from '../../src/pki/ca.js';
import { createCertificateAuthority, issueServerCertificate } from '../../src/pki/ca.js';
import { signHostCsr } from '../../src/pki/host-cert.js';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import { hostnameFromPeerCertificate, serialFromPeerCertificate } from '../../src/pki/peer-identity.js';

/** What the test server saw of the client on one request. */
interface Seen {
  authorized: boolean;
  authorizationError: string | null;
  hostname: string | null;
  serial: string | null;
}

let ca: CaMaterial;
let server: https.Server;
let port: number;

async function hostCert(issuer: CaMaterial, hostname: string, opts?: { now?: Date; validityDays?: number }) {
  const { keyPem, csrPem } = await generateHostKeyAndCsr(hostname);
  const { certPem, serial } = await signHostCsr(issuer, csrPem, hostname, opts);
  return { keyPem, certPem, serial };
}

function request(opts: { client?: CertAndKey; trust?: string; host?: string; servername?: string }): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: opts.host ?? '127.0.0.1',
        port,
        path: '/',
        servername: opts.servername,
        ca: opts.trust ?? ca.certPem,
        key: opts.client?.keyPem,
        cert: opts.client?.certPem,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body) as Seen));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'Okesu mTLS test CA' });
  const tlsCert = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  server = https.createServer(
    { key: tlsCert.keyPem, cert: tlsCert.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      const seen: Seen = {
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
        hostname: hostnameFromPeerCertificate(peer) ?? null,
        serial: serialFromPeerCertificate(peer) ?? null,
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(seen));
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

describe('mutual TLS with the Okesu CA', () => {
  it('authorizes a host certificate and reads its hostname and serial (server verified by name)', async () => {
    const host = await hostCert(ca, 'web-01.example');
    const seen = await request({ client: host, servername: 'localhost' });
    expect(seen).toEqual({ authorized: true, authorizationError: null, hostname: 'web-01.example', serial: host.serial });
  });

  it('verifies the server by its IP SAN when no servername is given', async () => {
    const host = await hostCert(ca, 'web-02');
    const seen = await request({ client: host });
    expect(seen.authorized).toBe(true);
    expect(seen.hostname).toBe('web-02');
  });

  it('does not authorize a host certificate from a rogue CA, even though its SAN looks right', async () => {
    const rogue = await createCertificateAuthority({ commonName: 'Okesu mTLS test CA' });
    const host = await hostCert(rogue, 'web-01.example');
    const seen = await request({ client: host, servername: 'localhost' });
    expect(seen.authorized).toBe(false);
    // the rogue CA has the same name, but its key identifier differs, so OpenSSL finds no issuer
    expect(seen.authorizationError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    // the SAN still parses: callers must check `authorized` before trusting the hostname
    expect(seen.hostname).toBe('web-01.example');
  });

  it('does not authorize an expired host certificate', async () => {
    const host = await hostCert(ca, 'old-host', { now: new Date(Date.now() - 400 * 86_400_000) });
    const seen = await request({ client: host, servername: 'localhost' });
    expect(seen.authorized).toBe(false);
    expect(seen.authorizationError).toBe('CERT_HAS_EXPIRED');
  });

  it('does not accept the CP’s server certificate as a client certificate', async () => {
    const serverCert = await issueServerCertificate(ca, { dnsNames: ['cp.example'], ipAddresses: [] });
    const seen = await request({ client: serverCert, servername: 'localhost' });
    expect(seen.authorized).toBe(false);
    expect(seen.authorizationError).toBe('INVALID_PURPOSE');
    expect(seen.hostname).toBeNull();
  });

  it('sees no identity when the client sends no certificate', async () => {
    const seen = await request({ servername: 'localhost' });
    expect(seen).toEqual({ authorized: false, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT', hostname: null, serial: null });
  });

  it.each([
    ['a server name the certificate does not carry', { servername: 'cp.other.example' }, 'ERR_TLS_CERT_ALTNAME_INVALID'],
    // the server sends its CA along with its certificate (OpenSSL builds the chain from `ca`)
    ['a client that trusts another CA', { servername: 'localhost', rogueTrust: true }, 'SELF_SIGNED_CERT_IN_CHAIN'],
  ])('the client refuses the server for %s', async (_name, opts, code) => {
    const host = await hostCert(ca, 'web-03');
    const trust = 'rogueTrust' in opts ? (await createCertificateAuthority({ commonName: 'other' })).certPem : undefined;
    const failure = await request({ client: host, servername: opts.servername, trust }).then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(failure).toBeDefined();
    expect(failure?.code).toBe(code);
  });
});
