import { SMTPServer } from 'smtp-server';
import type { SMTPServerOptions } from 'smtp-server';
import type { AddressInfo } from 'node:net';

/** What the server saw of one session that reached DATA. */
export interface ReceivedMail {
  raw: string;
  secure: boolean;
  mailFrom: string;
  rcptTo: string[];
  user: unknown;
}

/** A real SMTP server on loopback, port 0: the messages it accepted, the AUTH attempts and MAIL FROMs it saw. */
export interface SmtpTestServer {
  port: number;
  mails: ReceivedMail[];
  auths: { method: string; username?: string; password?: string | null; secure: boolean }[];
  mailFroms: number;
  close(): Promise<void>;
}

/** An error with an SMTP reply code, as smtp-server's callbacks take it. */
export function smtpReply(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** Starts a server with `options` (TLS, auth methods, handlers); the default handlers accept PLAIN/LOGIN `alice`/`s3cret`. */
export async function startSmtp(options: SMTPServerOptions): Promise<SmtpTestServer> {
  const state: SmtpTestServer = { port: 0, mails: [], auths: [], mailFroms: 0, close: async () => undefined };
  const server = new SMTPServer({
    logger: false,
    closeTimeout: 1000,
    onAuth(auth, session, cb) {
      state.auths.push({ method: auth.method, username: auth.username, password: auth.password, secure: session.secure });
      if (auth.username === 'alice' && auth.password === 's3cret') cb(null, { user: 'alice' });
      else cb(smtpReply(535, 'Authentication failed'));
    },
    onMailFrom(_address, _session, cb) {
      state.mailFroms++;
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const env = session.envelope;
        state.mails.push({
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          mailFrom: env.mailFrom ? env.mailFrom.address : '',
          rcptTo: env.rcptTo.map((r) => r.address),
          user: session.user,
        });
        cb(null, 'Queued as T1');
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
