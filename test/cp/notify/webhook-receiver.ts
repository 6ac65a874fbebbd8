import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver took, and whether its signature verified (the receiver side of docs/notifications.md). */
export interface ReceivedWebhook {
  status: number;
  verified: boolean;
  delivery: string;
  body: Record<string, unknown>;
}

/**
 * A webhook endpoint on loopback that verifies each request as docs/notifications.md tells receivers to: the timestamp
 * within 5 minutes, the HMAC-SHA256 of `timestamp.body` compared in constant time. It answers each request with the next
 * status of `script` (then 200), and can go down and come back on the same port.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  script: number[] = [];
  /** When true, requests are read and recorded but never answered (a hung endpoint). */
  hang = false;
  private server: http.Server | undefined;
  port = 0;

  constructor(private readonly secret: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Verified requests that were answered 2xx. */
  delivered(): ReceivedWebhook[] {
    return this.received.filter((r) => r.verified && r.status >= 200 && r.status < 300);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const ts = String(req.headers['x-okesu-timestamp'] ?? '');
        const sig = String(req.headers['x-okesu-signature'] ?? '');
        const expected = `v1=${createHmac('sha256', this.secret).update(`${ts}.${raw}`).digest('hex')}`;
        const fresh = Math.abs(Date.now() / 1000 - Number(ts)) <= 300;
        const verified = fresh && sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
        if (this.hang) {
          this.received.push({ status: 0, verified, delivery: String(req.headers['x-okesu-delivery'] ?? ''), body: JSON.parse(raw) as Record<string, unknown> });
          return;
        }
        const status = verified ? (this.script.shift() ?? 200) : 401;
        this.received.push({ status, verified, delivery: String(req.headers['x-okesu-delivery'] ?? ''), body: JSON.parse(raw) as Record<string, unknown> });
        res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const srv = this.server;
    this.server = undefined;
    if (!srv) return;
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}
