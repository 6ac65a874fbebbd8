import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';
import type { CpIdentity } from '../cp-state.js';
import type { AuthFailures } from './auth-failures.js';
import { refuseUpgrade } from './refuse-upgrade.js';
import { createHandshakeAdmission, takeTlsConnectionListener, type HandshakeAdmissionOptions } from './handshake-admission.js';
import { TICKET_KEY_PERIOD_MS } from '../tls-tickets.js';

/** Longest a request may take to arrive whole: a release upload over a slow link (Node's default is 5 min). */
const RELEASE_UPLOAD_TIMEOUT_MS = 30 * 60_000;

/** Accept backlog of the CP's port; the kernel caps it at net.core.somaxconn. */
const LISTEN_BACKLOG = 4096;

/** The TLS session-ticket keys to start with, and what rotates them on the server. */
export interface TicketKeySource {
  keys: Buffer;
  rotate(server: Pick<Server, 'setTicketKeys'>): { stop(): void };
}

/** What the CP's one HTTPS port serves. */
export interface CpHttpsHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  tunnelUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  streamUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** The CP's listening HTTPS server. */
export interface CpHttpsServer {
  port: number;
  /** Closes the port and every HTTP connection; upgraded sockets are the hubs' to close, before awaiting `closed`. */
  close(): Promise<void>;
}

/**
 * One port, two kinds of client: daimons present a certificate (checked on /v1/tunnel), operators do not.
 * Session tickets let a reconnecting daimon resume instead of redoing the mutual-TLS handshake; a resumed session
 * carries the client certificate of the one it resumes, and tunnel-auth checks it (and the credential) again.
 */
export async function listenCpHttps(opts: {
  identity: CpIdentity;
  /** TLS ticket keys now, and how they rotate (from the state directory, or derived alike by a cluster's replicas). */
  tickets: TicketKeySource;
  host: string;
  port: number;
  failures: AuthFailures;
  /** How many resuming (daimon) handshakes run at once; defaults in handshake-admission.ts. */
  admission?: HandshakeAdmissionOptions;
  handlers: CpHttpsHandlers;
  log: Logger;
}): Promise<CpHttpsServer> {
  const { identity, handlers, log } = opts;
  const srv: Server = createServer({
    key: identity.server.keyPem, cert: identity.server.certPem, ca: [identity.ca.certPem],
    requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2',
    ticketKeys: opts.tickets.keys, sessionTimeout: TICKET_KEY_PERIOD_MS / 1000, sessionIdContext: 'okesu-cp',
    // A release upload (~90 MB) over a slow link outlasts Node's default of 5 min for a whole request; headers
    // still have to arrive within headersTimeout (60 s).
    requestTimeout: RELEASE_UPLOAD_TIMEOUT_MS,
  });
  // An address that went on failing after its 429s is cut off here, before the TLS handshake it would cost; the others
  // start theirs when the admission gate lets them (reconnecting daimons take turns, operators go ahead).
  const admission = createHandshakeAdmission(opts.admission);
  const startTls = takeTlsConnectionListener(srv);
  srv.on('connection', (socket: Socket) => {
    if (!opts.failures.admit(socket.remoteAddress)) socket.destroy();
    else admission.admit(socket, startTls);
  });
  srv.on('secureConnection', (tls: TLSSocket) => admission.secured(tls));
  const ticketRotation = opts.tickets.rotate(srv);
  srv.on('request', handlers.request);
  // `Expect: 100-continue` (release uploads): the route, not Node, decides whether the body is wanted.
  srv.on('checkContinue', handlers.request);
  srv.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const path = new URL(req.url ?? '/', 'https://cp.invalid').pathname;
    if (path === '/v1/tunnel') handlers.tunnelUpgrade(req, socket, head);
    else if (path === '/v1/stream') handlers.streamUpgrade(req, socket, head);
    else refuseUpgrade(socket, new OkesuError('OKS_ERR_NOT_FOUND', `no WebSocket endpoint ${path}`));
  });
  srv.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
  srv.on('clientError', (err, socket) => socket.destroy(err));
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    // A CP restart under a large fleet meets thousands of reconnecting daimons at once: Node's default accept
    // backlog (511) overflows, the kernel drops SYNs and each dropped client waits out TCP's 1-3-7 s retransmits.
    srv.listen({ port: opts.port, host: opts.host, backlog: LISTEN_BACKLOG }, () => resolve());
  });
  return {
    port: (srv.address() as AddressInfo).port,
    close() {
      ticketRotation.stop();
      admission.close();
      const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
      srv.closeAllConnections();
      return closed;
    },
  };
}
