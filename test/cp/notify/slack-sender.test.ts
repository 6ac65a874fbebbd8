import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackSender, retryAfterText, slackWebhookUrlProblem } from '../../../src/cp/notify/slack-sender.js';
import type { SlackPayload } from '../../../src/cp/notify/slack-message.js';
import { HOSTILE_TITLE, failure, finding, findingMessage } from './notify-fixtures.js';

/** A loopback stand-in for Slack's incoming webhook: `/hooks/<case>` picks the answer; every request is kept. */
interface Received {
  path: string;
  contentType: string;
  body: SlackPayload;
}

const received: Received[] = [];
let server: Server;
let base: string;

function answer(req: IncomingMessage, res: ServerResponse, raw: string): void {
  received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: JSON.parse(raw) as SlackPayload });
  const reply = (status: number, text: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(text);
  };
  switch (req.url ?? '') {
    case '/hooks/ok':
      return reply(200, 'ok');
    case '/hooks/down':
      return reply(500, 'internal_error');
    case '/hooks/busy':
      return reply(429, 'rate_limited', { 'retry-after': '30' });
    case '/hooks/bad':
      return reply(400, 'invalid_payload');
    case '/hooks/gone':
      return reply(404, 'no_service');
    case '/hooks/moved':
      return reply(302, '', { location: 'http://elsewhere.example/' });
    case '/hooks/hang':
      return; // never answers: the sender's timeout ends it
    default:
      return reply(404, 'no_such_hook');
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const sender = createSlackSender();
const send = (path: string, timeoutMs = 5000): Promise<string> =>
  sender.send({ kind: 'slack', webhookUrl: `${base}${path}` }, findingMessage(finding({ title: HOSTILE_TITLE })), { timeoutMs });

describe('Slack sender against a loopback webhook', () => {
  it('posts the Block Kit JSON with the hostile title escaped; 200 ok is delivered', async () => {
    expect(await send('/hooks/ok')).toBe('HTTP 200 ok');
    const got = received.at(-1) as Received;
    expect(got.path).toBe('/hooks/ok');
    expect(got.contentType).toBe('application/json; charset=utf-8');
    expect(got.body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'section', 'context']);
    const json = JSON.stringify(got.body);
    expect(json).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt; &lt;@U123&gt; &amp; co');
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<https://evil');
    expect(json).not.toContain('<@U123>');
    expect(sender.kind).toBe('slack');
  });

  it.each([
    ['/hooks/down', true, 'HTTP 500 internal_error'],
    ['/hooks/busy', true, 'HTTP 429 rate_limited, retry after 30 s'],
    ['/hooks/bad', false, 'HTTP 400 invalid_payload'],
    ['/hooks/gone', false, 'HTTP 404 no_service'],
    ['/hooks/moved', false, 'HTTP 302'],
  ])('%s: retryable %s', async (path, retryable, said) => {
    const err = await failure(send(path));
    expect(err.retryable).toBe(retryable);
    expect(err.message).toContain(said);
    expect(err.message).toContain(`Slack webhook at 127.0.0.1:`);
    expect(err.message).not.toContain(path); // the URL is the secret: only its host is named
  });

  it('a webhook that never answers: a retryable timeout, on time', async () => {
    const started = Date.now();
    const err = await failure(send('/hooks/hang', 300));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a refused connection is retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await failure(sender.send({ kind: 'slack', webhookUrl: `http://127.0.0.1:${port}/x` }, findingMessage(), { timeoutMs: 5000 }));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('refuses plain http beyond loopback and URLs with user info, without sending', async () => {
    const before = received.length;
    for (const url of ['http://hooks.slack.com/services/T/B/X', 'ftp://127.0.0.1/x', `http://u:p@127.0.0.1/x`, 'not a url']) {
      const err = await failure(sender.send({ kind: 'slack', webhookUrl: url }, findingMessage(), { timeoutMs: 1000 }));
      expect(err.retryable).toBe(false);
      expect(err.message).not.toContain('/services/T/B/X');
    }
    expect(received.length).toBe(before);
  });
});

describe('slackWebhookUrlProblem and retryAfterText', () => {
  it.each([
    ['https://hooks.slack.com/services/T/B/X', undefined],
    ['http://127.0.0.1:8080/hook', undefined],
    ['http://[::1]:8080/hook', undefined],
    ['http://localhost/hook', undefined],
    ['http://10.0.0.1/hook', 'must be https'],
    ['http://127.0.0.1.evil.example/hook', 'must be https'],
  ])('%s', (url, problem) => {
    const got = slackWebhookUrlProblem(url);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });

  it('reads seconds and HTTP dates', () => {
    expect(retryAfterText('12')).toBe(', retry after 12 s');
    expect(retryAfterText(new Date(61_000).toUTCString(), 1_000)).toBe(', retry after 60 s');
    expect(retryAfterText('soon')).toBe('');
    expect(retryAfterText(null)).toBe('');
  });
});
