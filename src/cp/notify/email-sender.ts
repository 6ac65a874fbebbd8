import { rootCertificates } from 'node:tls';
import { displayText } from '../../text/display-text.js';
import { DeliveryError } from './channel-sender.js';
import type { ChannelSender, EmailTarget, NotificationMessage } from './channel-sender.js';
import { emailContent } from './email-message.js';
import { isLoopbackHost } from './loopback-host.js';

/**
 * Sends a notification by SMTP with nodemailer, once (the outbox retries). nodemailer is imported on the first send,
 * so a CP without an email channel never parses it.
 *
 * TLS: `starttls` (the default) connects in clear and must upgrade with STARTTLS before anything else is sent — a
 * server that does not offer it is refused, nothing goes out in clear; `implicit` is TLS from the first byte (port
 * 465); `none` is allowed only for a loopback server. The server's certificate is always verified (system CAs plus
 * `caPem`), TLS 1.2 at least. AUTH (PLAIN or LOGIN, whichever the server offers) only when `user` is set, and only
 * over TLS except on loopback.
 *
 * Outcomes: a permanent SMTP reply (5xx but 503: a rejected sender or recipient, a refused message, failed AUTH),
 * a TLS failure (no STARTTLS, an untrusted certificate) and a bad configuration are not retryable; a 4xx reply, a
 * lost or refused connection and the timeout are. The receipt is the server's final answer and the Message-ID,
 * which is derived from the delivery id so a retry of one delivery carries the same id (receivers dedupe on it).
 */

/** Why `target` cannot be used as it is, or undefined: for `okesu notify add email` to check before storing. */
export function emailTargetProblem(target: EmailTarget): string | undefined {
  if (!target.host.trim()) return 'the SMTP host is empty';
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) return `the SMTP port ${target.port} is not 1-65535`;
  if (target.to.length === 0) return 'the email channel has no recipient (to)';
  if (!target.from.trim()) return 'the email channel has no sender (from)';
  if (target.tls === 'none' && !isLoopbackHost(target.host)) return `tls none (no encryption) is allowed only for a loopback SMTP server, not ${target.host}`;
  if (target.password !== undefined && target.user === undefined) return 'an SMTP password needs a user';
  return undefined;
}

/** The error fields nodemailer sets (see its `NodemailerError`). */
interface SmtpError {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  originalCode?: string;
  command?: string;
}

const CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME/i;
const NOT_RETRYABLE_CODES = new Set(['ETLS', 'EAUTH', 'ENOAUTH', 'ECONFIG', 'EENVELOPE']);

const clip = (text: string, max = 300): string => {
  const safe = displayText(text.trim());
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
};

/** A nodemailer failure as a DeliveryError: what happened, the server's words, and whether to try again. */
export function smtpDeliveryError(err: unknown, where: string, timeoutMs: number): DeliveryError {
  const e = (err ?? {}) as SmtpError;
  if (e.code === 'EABORT' || e.code === 'ETIMEDOUT' || (err as { name?: string }).name === 'TimeoutError')
    return new DeliveryError(`${where}: no answer within ${timeoutMs} ms`, true);
  const cert = CERT_CODES.test(`${e.originalCode ?? ''} ${e.message ?? ''}`) && (e.code === 'ETLS' || e.code === 'ESOCKET');
  if (cert) return new DeliveryError(`${where}: the server's TLS certificate is not trusted (${clip(e.message ?? '')}); add its CA as caPem`, false);
  if (e.code === 'ETLS' && e.command === 'STARTTLS' && e.responseCode !== undefined)
    return new DeliveryError(`${where}: the server does not offer STARTTLS (it answered: ${clip(e.response ?? '')}); nothing was sent in clear`, false);
  const said = e.response ? ` — server said: ${clip(e.response)}` : '';
  const what = `${where}: ${clip(e.message ?? String(err))}${e.code ? ` [${e.code}]` : ''}${said && !(e.message ?? '').includes(e.response ?? '') ? said : ''}`;
  if (e.responseCode !== undefined) {
    const permanent = e.permanent ?? (e.responseCode >= 500 && e.responseCode !== 503);
    return new DeliveryError(what, !permanent);
  }
  return new DeliveryError(what, !NOT_RETRYABLE_CODES.has(e.code ?? ''));
}

/** A Message-ID made from the delivery id, on the sender's domain when `from` names one. */
export function messageIdFor(deliveryId: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'okesu.invalid';
  return `<okesu.${deliveryId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}@${domain}>`;
}

/** The email sender: one SMTP session per send, closed afterwards, finished or abandoned within `timeoutMs`. */
export function createEmailSender(): ChannelSender<EmailTarget> {
  return {
    kind: 'email',
    async send(target: EmailTarget, message: NotificationMessage, opts: { timeoutMs: number }): Promise<string> {
      const problem = emailTargetProblem(target);
      if (problem) throw new DeliveryError(problem, false);
      const where = `SMTP ${target.host}:${target.port}`;
      const { createTransport } = await import('nodemailer');
      const transport = createTransport({
        host: target.host,
        port: target.port,
        secure: target.tls === 'implicit',
        requireTLS: target.tls === 'starttls',
        ignoreTLS: target.tls === 'none',
        ...(target.user !== undefined ? { auth: { user: target.user, pass: target.password ?? '' } } : {}),
        // `ca` replaces Node's trust store, so the system roots come along with the extra CA.
        tls: { minVersion: 'TLSv1.2', ...(target.caPem ? { ca: [...rootCertificates, target.caPem] } : {}) },
        connectionTimeout: opts.timeoutMs,
        greetingTimeout: opts.timeoutMs,
        socketTimeout: opts.timeoutMs,
        dnsTimeout: opts.timeoutMs,
        disableFileAccess: true,
        disableUrlAccess: true,
        logger: false,
      });
      const content = emailContent(message);
      try {
        const info = await transport.sendMail({
          from: target.from,
          to: target.to,
          ...content,
          messageId: messageIdFor(message.deliveryId, target.from),
          date: new Date(message.createdAt),
          headers: { 'X-Okesu-Delivery-Id': message.deliveryId.replace(/[^\x21-\x7e]/g, '_').slice(0, 100) },
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
        const rejected = info.rejected.length > 0 ? ` (rejected: ${clip(info.rejected.join(', '), 200)})` : '';
        return `${clip(info.response, 200)} ${info.messageId}${rejected}`;
      } catch (err) {
        throw smtpDeliveryError(err, where, opts.timeoutMs);
      } finally {
        transport.close();
      }
    },
  };
}
