import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import type { StreamMessage } from '../../src/protocol/api.js';
import { finding } from './helpers.js';

/** What the fake CP does with one stream connection. */
export type Script = (ws: WebSocket, url: URL) => void;
/** A refused upgrade: the HTTP status and JSON body the fake CP answers with. */
export interface Reject { status: number; body: unknown }

/** A tiny stand-in for the CP's /v1/stream: runs one script per connection, in order, and records every upgrade. */
export class FakeStreamServer {
  upgrades: URL[] = [];
  authorization: (string | undefined)[] = [];
  scripts: (Script | Reject)[] = [];
  port = 0;
  private server: https.Server;
  private wss = new WebSocketServer({ noServer: true });

  constructor(
    private tls: { cert: string; key: string },
    private onRequest?: (req: IncomingMessage, res: ServerResponse) => void,
  ) {
    this.server = this.build();
  }

  private build(): https.Server {
    const server = https.createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => {
      if (this.onRequest) this.onRequest(req, res);
      else res.writeHead(404).end();
    });
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'wss://127.0.0.1');
      const step = this.scripts[this.upgrades.length];
      this.upgrades.push(url);
      this.authorization.push(req.headers.authorization);
      if (step === undefined) {
        socket.destroy();
      } else if (typeof step === 'function') {
        this.wss.handleUpgrade(req, socket, head, (ws) => step(ws, url));
      } else {
        const body = JSON.stringify(step.body);
        socket.end(`HTTP/1.1 ${step.status} Nope\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
    });
    return server;
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops like a crashed CP: every socket dropped, the port closed. */
  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Comes back on the same port. */
  async restart(): Promise<void> {
    this.server = this.build();
    await this.listen(this.port);
  }
}

/** Sends a message (or raw text) on a fake stream connection. */
export const send = (ws: WebSocket, msg: unknown): void => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
/** A finding stream message whose finding id equals its cursor. */
export const findingMsg = (cursor: number, over: Parameters<typeof finding>[0] = {}): StreamMessage => ({ type: 'finding', cursor, finding: finding({ id: cursor, ...over }) });
