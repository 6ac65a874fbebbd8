import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { OkesuError } from '../../../src/errors.js';
import type { ErrorCode } from '../../../src/errors.js';
import type { CaMaterial } from '../../../src/pki/ca.js';
import { createCertificateAuthority, issueServerCertificate } from '../../../src/pki/ca.js';
import { signHostCsr } from '../../../src/pki/host-cert.js';
import { caFingerprint } from '../../../src/pki/ca-fingerprint.js';
import { hostnameFromPeerCertificate } from '../../../src/pki/peer-identity.js';
import { registerRequestSchema } from '../../../src/protocol/api.js';
import type { RegisterRequest, RegisterResponse } from '../../../src/protocol/api.js';
import { formatToken } from '../../../src/protocol/tokens.js';
import type { CpFrame } from '../../../src/protocol/tunnel.js';

/** A frame the fake CP received, parsed (or `{type:'(not json)'}`). */
export type Frame = Record<string, unknown> & { type: string };

/** One tunnel connection the fake CP accepted. */
export interface FakeTunnel {
  ws: WebSocket;
  /** What mutual TLS established about the client. */
  authorized: boolean;
  hostname: string | undefined;
  authorization: string | undefined;
  frames: Frame[];
  /** Times (ms) at which each frame arrived, parallel to `frames`. */
  times: number[];
  send(frame: CpFrame | Record<string, unknown>): void;
  closed: boolean;
}

/** An HTTP refusal the fake CP answers with. */
export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
}

/** A small, real HTTPS + WSS stand-in for the CP: `/v1/ca`, `/v1/register` and `/v1/tunnel` with mutual TLS. */
export interface FakeCp {
  url: string;
  ca: CaMaterial;
  pin: string;
  /** Every request line, e.g. `GET /v1/ca`, `POST /v1/register`, `UPGRADE /v1/tunnel`. */
  requests: string[];
  registrations: RegisterRequest[];
  tunnels: FakeTunnel[];
  /** When set, `/v1/register` answers with it. */
  registerRefusal?: Refusal;
  /** When set, tunnel upgrades are answered with it. */
  upgradeRefusal?: Refusal;
  /** Interval in the welcome frame. */
  heartbeatMs: number;
  /** Whether to send `welcome` on connect (default true). */
  welcome: boolean;
  /** `reconnect_spread_ms` of the welcome frame (absent when undefined). */
  reconnectSpreadMs?: number;
  /** Whether to acknowledge `events` frames (default false: records stay un-acked). */
  ackEvents: boolean;
  /** Whether to answer heartbeats with `heartbeat_ack` (default true); false makes the CP silent. */
  ackHeartbeats: boolean;
  /** A join token carrying this CP's pin (or `pin` to forge another). */
  joinToken(pin?: string): string;
  close(): Promise<void>;
}

function refuse(socket: Duplex, r: Refusal): void {
  const body = JSON.stringify({ error: { code: r.code, message: r.message } });
  socket.end(`HTTP/1.1 ${r.status} ${r.code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** Starts a fake CP on 127.0.0.1, port 0. */
export async function startFakeCp(opts: { heartbeatMs?: number } = {}): Promise<FakeCp> {
  const ca = await createCertificateAuthority({ commonName: 'fake CP CA' });
  const tls = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const wss = new WebSocketServer({ noServer: true });
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false });
  const cp: FakeCp = {
    url: '',
    ca,
    pin: caFingerprint(ca.certPem),
    requests: [],
    registrations: [],
    tunnels: [],
    heartbeatMs: opts.heartbeatMs ?? 50,
    welcome: true,
    ackHeartbeats: true,
    ackEvents: false,
    joinToken: (pin) => formatToken({ kind: 'join', id: randomBytes(8).toString('hex'), secret: randomBytes(32).toString('hex'), pin: pin ?? cp.pin }),
    close: async () => {
      for (const t of cp.tunnels) t.ws.terminate();
      wss.close();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };

  server.on('request', (req, res) => {
    cp.requests.push(`${req.method} ${req.url}`);
    const answer = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/v1/ca') return answer(200, ca.certPem);
    if (req.method !== 'POST' || req.url !== '/v1/register') return answer(404, new OkesuError('OKS_ERR_NOT_FOUND').toBody());
    void (async () => {
      const r = cp.registerRefusal;
      if (r) return answer(r.status, { error: { code: r.code, message: r.message } });
      const parsed = registerRequestSchema.safeParse(await readJson(req));
      if (!parsed.success) return answer(400, new OkesuError('OKS_ERR_BAD_REQUEST').toBody());
      cp.registrations.push(parsed.data);
      const { certPem } = await signHostCsr(ca, parsed.data.csr, parsed.data.hostname);
      const credential = formatToken({ kind: 'host', id: randomBytes(8).toString('hex'), secret: randomBytes(32).toString('hex') });
      const body: RegisterResponse = { hostname: parsed.data.hostname, certificate: certPem, ca: ca.certPem, credential };
      answer(201, body);
    })();
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    cp.requests.push(`UPGRADE ${req.url}`);
    if (cp.upgradeRefusal) return refuse(socket, cp.upgradeRefusal);
    const tlsSocket = req.socket as TLSSocket;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const tunnel: FakeTunnel = {
        ws,
        authorized: tlsSocket.authorized,
        hostname: hostnameFromPeerCertificate(tlsSocket.getPeerCertificate()),
        authorization: req.headers.authorization,
        frames: [],
        times: [],
        send: (frame) => ws.send(JSON.stringify(frame)),
        closed: false,
      };
      ws.on('message', (data) => {
        let frame: Frame;
        try {
          frame = JSON.parse(String(data)) as Frame;
        } catch {
          frame = { type: '(not json)' };
        }
        tunnel.frames.push(frame);
        tunnel.times.push(Date.now());
        if (frame.type === 'events' && cp.ackEvents) {
          tunnel.send({ type: 'ack', records: (frame.records as { run_id: string; seq: number }[]).map((r) => ({ run_id: r.run_id, seq: r.seq })) });
        }
        if (frame.type === 'heartbeat' && cp.ackHeartbeats) tunnel.send({ type: 'heartbeat_ack', seq: frame.seq as number });
      });
      ws.on('close', () => (tunnel.closed = true));
      cp.tunnels.push(tunnel);
      if (cp.welcome) {
        const spread = cp.reconnectSpreadMs === undefined ? {} : { reconnect_spread_ms: cp.reconnectSpreadMs };
        tunnel.send({ type: 'welcome', hostname: tunnel.hostname ?? '', heartbeat_interval_ms: cp.heartbeatMs, server_time: Date.now(), ...spread });
      }
    });
  });

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cp.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return cp;
}
