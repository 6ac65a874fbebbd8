import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { StoredFinding } from '../../protocol/finding.js';
import { DeliveryError, type ChannelSender, type NotificationMessage, type WebhookTarget } from './channel-sender.js';

/** Header names of a signed webhook delivery (docs/notifications.md#verifying-a-webhook). */
export const WEBHOOK_HEADERS = { timestamp: 'X-Okesu-Timestamp', signature: 'X-Okesu-Signature', delivery: 'X-Okesu-Delivery' } as const;

/** A finding as a webhook carries it, with its link back to the CP. */
export type WebhookFinding = StoredFinding & { link: { id: number; fingerprint: string; url: string | null } };

/** The JSON body of a webhook delivery. */
export interface WebhookBody {
  type: 'okesu.finding' | 'okesu.digest';
  delivery_id: string;
  channel: string;
  created_at: number;
  /** The finding (`okesu.finding` only). */
  finding?: WebhookFinding;
  /** Every finding carried: one, or the first of each new group for a digest (at most 50). */
  findings: WebhookFinding[];
  /** How many findings the message stands for. */
  total: number;
}

/** `v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`: what `X-Okesu-Signature` carries. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The body of `message`. */
export function webhookBody(message: NotificationMessage): WebhookBody {
  const findings = message.findings.map((f): WebhookFinding => ({
    ...f,
    link: { id: f.id, fingerprint: f.fingerprint, url: message.cpUrl ? `${message.cpUrl}/v1/findings/${f.id}` : null },
  }));
  return {
    type: message.kind === 'digest' ? 'okesu.digest' : 'okesu.finding',
    delivery_id: message.deliveryId,
    channel: message.channel,
    created_at: message.createdAt,
    ...(message.kind === 'finding' && findings[0] && { finding: findings[0] }),
    findings,
    total: message.total,
  };
}

/** True for an answer another attempt may fix: a timeout, throttling, a server error. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * POSTs the signed JSON body. 2xx is delivered; 408, 429, 5xx and network failures are retried; any other answer is
 * final (the receiver refused it: a wrong secret, a bad URL). Redirects are not followed (the signature is for one URL).
 */
export function createWebhookSender(opts: { now?: () => number; userAgent?: string } = {}): ChannelSender<WebhookTarget> {
  const now = opts.now ?? Date.now;
  return {
    kind: 'webhook',
    send(target, message, { timeoutMs }) {
      const body = JSON.stringify(webhookBody(message));
      const timestamp = String(Math.floor(now() / 1000));
      const url = new URL(target.url);
      const headers = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': opts.userAgent ?? 'okesu-notify/1',
        [WEBHOOK_HEADERS.timestamp]: timestamp,
        [WEBHOOK_HEADERS.signature]: webhookSignature(target.secret, timestamp, body),
        [WEBHOOK_HEADERS.delivery]: message.deliveryId,
      };
      return new Promise<string>((resolve, reject) => {
        const onAnswer = (res: http.IncomingMessage): void => {
          const status = res.statusCode ?? 0;
          // Drain (bounded) so the connection closes cleanly; the body is not kept, it may hold anything.
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > 64 * 1024) res.destroy();
          });
          res.on('error', () => undefined);
          res.resume();
          if (status >= 200 && status < 300) resolve(`HTTP ${status}`);
          else reject(new DeliveryError(`HTTP ${status}`, retryableStatus(status)));
        };
        const reqOpts = { method: 'POST', headers, timeout: timeoutMs };
        const req = url.protocol === 'https:'
          ? https.request(url, { ...reqOpts, ...(target.caPem !== undefined && { ca: target.caPem }) }, onAnswer)
          : http.request(url, reqOpts, onAnswer);
        // The whole attempt is bounded, not only the silences between bytes.
        const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', (err) => reject(new DeliveryError(networkReason(err), true)));
        req.on('close', () => clearTimeout(deadline));
        req.end(body);
      });
    },
  };
}

/** A short reason for a failed connection, without the URL (its query string may be a secret). */
function networkReason(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code !== undefined ? `network: ${code}` : `network: ${err.message}`;
}
