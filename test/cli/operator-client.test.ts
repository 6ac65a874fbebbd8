import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperatorClient } from '../../src/transport/operator-client.js';
import { OkesuError } from '../../src/errors.js';
import type { ClientConfig } from '../../src/protocol/client-config.js';
import { TOKEN, finding, host, runView, testPki } from './helpers.js';

interface Seen { method: string; url: URL; auth?: string; body: string }

describe('createOperatorClient', () => {
  let pki: { ca: string; cert: string; key: string };
  let server: https.Server;
  let config: ClientConfig;
  const seen: Seen[] = [];
  const routes = new Map<string, (res: ServerResponse, req: IncomingMessage) => void>();
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  beforeAll(async () => {
    pki = await testPki();
    server = https.createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'https://127.0.0.1');
        seen.push({ method: req.method ?? '', url, auth: req.headers.authorization, body });
        const route = routes.get(`${req.method} ${url.pathname}`);
        if (route) route(res, req);
        else json(res, 404, { error: { code: 'OKS_ERR_NOT_FOUND', message: `not found: ${url.pathname}` } });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    config = { cp: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, ca: pki.ca, token: TOKEN, name: '' };
    routes.set('GET /v1/hosts', (res) => json(res, 200, { hosts: [host()] }));
    routes.set('POST /v1/runs', (res) => json(res, 201, { run: runView() }));
    routes.set('GET /v1/findings', (res) => json(res, 200, { findings: [finding()], cursor: 42 }));
    routes.set('GET /v1/tokens', (res) => json(res, 200, { tokens: [{ id: 1 }] }));
    routes.set('GET /v1/audit', (res) => res.writeHead(200).end('<html>'));
    routes.set('GET /v1/whoami', (res) => json(res, 403, { error: { code: 'OKS_ERR_FUTURE_THING', message: 'from a newer CP' } }));
    routes.set('GET /v1/runs', () => undefined); // never answers
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function failure(p: Promise<unknown>): Promise<OkesuError> {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OkesuError);
    return err as OkesuError;
  }

  it('sends the bearer token and returns validated bodies', async () => {
    const client = createOperatorClient(config);
    expect(await client.hosts()).toEqual([host()]);
    expect(seen.at(-1)?.auth).toBe(`Bearer ${TOKEN}`);
  });

  it('posts JSON bodies', async () => {
    const run = await createOperatorClient(config).createRun({ agent: 'edr', host: 'web-01', inputs: { n: 1 } });
    expect(run.run_id).toBe(runView().run_id);
    expect(JSON.parse(seen.at(-1)?.body ?? '')).toEqual({ agent: 'edr', host: 'web-01', inputs: { n: 1 } });
  });

  it('puts defined filters in the query and nothing else', async () => {
    const page = await createOperatorClient(config).findings({ severity: 'HIGH', since_ms: 1000 });
    expect(page.cursor).toBe(42);
    expect(Object.fromEntries(seen.at(-1)?.url.searchParams ?? [])).toEqual({ severity: 'HIGH', since_ms: '1000' });
  });

  it('turns an error body into an OkesuError with the CP’s code and message', async () => {
    const err = await failure(createOperatorClient(config).getRun('r_nope'));
    expect(err.code).toBe('OKS_ERR_NOT_FOUND');
    expect(err.message).toBe('not found: /v1/runs/r_nope');
  });

  it('maps an unknown error code to OKS_ERR_INTERNAL, keeping the code in the message', async () => {
    const err = await failure(createOperatorClient(config).whoami());
    expect(err.code).toBe('OKS_ERR_INTERNAL');
    expect(err.message).toContain('OKS_ERR_FUTURE_THING: from a newer CP');
  });

  it('rejects a body that fails its schema as OKS_ERR_BAD_FRAME', async () => {
    const err = await failure(createOperatorClient(config).listTokens());
    expect(err.code).toBe('OKS_ERR_BAD_FRAME');
    expect(err.message).toContain('GET /v1/tokens');
    expect(err.message).toContain('tokens.0.');
  });

  it('rejects a body that is not JSON as OKS_ERR_BAD_FRAME', async () => {
    expect((await failure(createOperatorClient(config).audit())).code).toBe('OKS_ERR_BAD_FRAME');
  });

  it('reports a silent CP as unreachable after the timeout', async () => {
    const err = await failure(createOperatorClient(config, { timeoutMs: 200 }).listRuns());
    expect(err.code).toBe('OKS_ERR_CP_UNREACHABLE');
    expect(err.message).toContain(config.cp);
  });

  it('reports a refused connection as OKS_ERR_CP_UNREACHABLE naming the URL', async () => {
    const closed = https.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure(createOperatorClient({ ...config, cp: `https://127.0.0.1:${port}` }).hosts());
    expect(err.code).toBe('OKS_ERR_CP_UNREACHABLE');
    expect(err.message).toContain(`https://127.0.0.1:${port}`);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('trusts exactly the configured CA', async () => {
    const other = await testPki();
    const err = await failure(createOperatorClient({ ...config, ca: other.ca }).hosts());
    expect(err.code).toBe('OKS_ERR_CP_UNREACHABLE');
    expect(err.message).toMatch(/certificate/i);
  });
});
