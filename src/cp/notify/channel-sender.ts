import type { StoredFinding } from '../../protocol/finding.js';

/**
 * The contract between the notification outbox (which decides what to send, when, and retries) and the code that
 * speaks to one kind of destination (webhook, Slack, email). A sender does one attempt and says whether a failure is
 * worth retrying; it never queues, sleeps or retries itself, and never logs a secret.
 */

/** What one delivery carries: a new finding group's first finding, or a digest of several (a burst, or after a quiet period). */
export interface NotificationMessage {
  kind: 'finding' | 'digest';
  /** The channel's name (`okesu notify add … NAME`). */
  channel: string;
  /** One finding for `finding`; for `digest`, the first finding of each group in it (at most 50, newest last). */
  findings: StoredFinding[];
  /** For `digest`: how many findings the digest stands for in all (may exceed `findings.length`). */
  total: number;
  /** The CP's advertised URL, for a link back (`${cpUrl}/v1/findings/${id}`), when known. */
  cpUrl?: string;
  /** Unique per delivery (the outbox row's id): receivers dedupe retries with it. */
  deliveryId: string;
  /** When the message was made (ms since the epoch). */
  createdAt: number;
}

/** A Slack incoming webhook (its URL is the secret). */
export interface SlackTarget {
  kind: 'slack';
  webhookUrl: string;
}

/** An SMTP server and the envelope. STARTTLS is required unless `tls` says otherwise. */
export interface EmailTarget {
  kind: 'email';
  host: string;
  port: number;
  /** `starttls` (default: plain connect, then STARTTLS, refused if the server does not offer it), `implicit` (TLS from the start, e.g. 465), `none` (loopback tests only). */
  tls: 'starttls' | 'implicit' | 'none';
  user?: string;
  password?: string;
  from: string;
  to: string[];
  /** Extra CA certificates (PEM) the server's certificate may chain to. */
  caPem?: string;
}

/** A generic JSON webhook, signed with HMAC-SHA256 over `timestamp.body`. */
export interface WebhookTarget {
  kind: 'webhook';
  url: string;
  secret: string;
  /** Extra CA certificates (PEM) for an https URL. */
  caPem?: string;
}

/** Every destination kind. */
export type ChannelTarget = WebhookTarget | SlackTarget | EmailTarget;

/** Why one attempt failed; `retryable` false for what another attempt cannot fix (a 4xx other than 408/429, a rejected address). */
export class DeliveryError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** One attempt at one destination kind. Resolves with a short receipt for the delivery log (e.g. `HTTP 200`, `250 OK id=…`). */
export interface ChannelSender<T extends ChannelTarget = ChannelTarget> {
  readonly kind: T['kind'];
  /** Throws DeliveryError; any other error counts as retryable. Must finish or fail within `timeoutMs`. */
  send(target: T, message: NotificationMessage, opts: { timeoutMs: number }): Promise<string>;
}
